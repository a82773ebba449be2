import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, type LogEntry } from '../../libs/contracts/src/index.js';
import { checkHistory, History } from '../../libs/checkers/src/index.js';
import { run } from '../domain/support.js';

let seq = 0;
const ev = (component: LogEntry['component'], type: string, payload: Record<string, unknown>, correlationId = 'c'): LogEntry => ({
  runId: 'r', seq: ++seq, eventId: `e${seq}`, kind: 'event', type, component, causationId: `in${seq}`, correlationId, lamport: seq, payload, schemaVersion: SCHEMA_VERSION,
});

describe('History', () => {
  it('finds an output\'s input and an input\'s sender by index', async () => {
    const r = await run('scenarios/seed-null-iommu-device.yaml', 'v1');
    const h = new History(r.entries);
    const oops = h.events('host-vtd', 'oops')[0]!;
    const input = h.inputOf(oops)!;
    expect(input).toMatchObject({ kind: 'input', component: 'host-vtd', type: 'iommu_sva_bind_gpasid' });
    expect(h.senderOf(input)).toMatchObject({ kind: 'command', component: 'vfio-type1', type: 'iommu_sva_bind_gpasid' });
    expect(h.chain(oops)).toEqual(expect.arrayContaining([oops.seq, input.seq, h.senderOf(input)!.seq]));
  });

  it('reports every invariant of DOMAIN.md §6 it checks', () => {
    const { checked } = checkHistory([]);
    expect(checked).toEqual(expect.arrayContaining([
      'no-host-oops', 'iommu-device-valid', 'dma-isolation', 'no-stale-translation', 'invalidation-order', 'pasid-ownership', 'pasid-quota',
      'drain-before-reuse', 'page-response', 'uapi-errno', 'bind-atomic', 'pins-within-mappings', 'liveness',
    ]));
  });
});

describe('checkers on hand-made histories', () => {
  it('dma-isolation: the memory map is the machine\'s from boot, also when host-vtd records it after a DMA (it consumed run.open late)', () => {
    // a non-IOMMU vGPU's DMA to its VM's own pinned page, host-vtd's run.open consumed last (found by chaos)
    const mdev = ev('mdev-parent', 'mdev.created', { mdev: 'vgpu1', vm: 'vm1' });
    const dma = (hpa: number) => ev('mdev-parent', 'dma.completed', { mdev: 'vgpu1', vm: 'vm1', pasid: 0, va: 0x10000, hpa });
    const inside = dma(0x100010);
    const outside = dma(0x900000);
    const configured = ev('host-vtd', 'host.configured', { vms: { vm1: { base: 0x100000, ram: 0x100000 } } });
    const v = checkHistory([mdev, inside, outside, configured]).violations.filter((x) => x.invariant === 'dma-isolation');
    expect(v.map((x) => x.message)).toEqual(['DMA of vgpu1 (VM vm1) with PASID 0 at va 0x10000 reached host memory (HPA page 0x900000)']);
  });

  it('pasid-quota: a VM failing at its own quota is not starved; failing at the shared space under quota is', () => {
    const base = [ev('orchestrator', 'run.started', { policy: { values: { 'vfio.pasid_quota': 2 } } }), ev('vfio-type1', 'pasid.allocated', { vm: 'vm1', pasid: 3 }), ev('vfio-type1', 'pasid.allocated', { vm: 'vm1', pasid: 4 })];
    const own = ev('vfio-type1', 'pasid_request.rejected', { vm: 'vm1', why: 'vfio_mm PASID quota reached' });
    expect(checkHistory([...base, own]).violations).toEqual([]);
    const starved = ev('vfio-type1', 'pasid_request.rejected', { vm: 'vm2', space: true, range: [1, 0xfffff] });
    const v = checkHistory([...base, starved]).violations.filter((x) => x.invariant === 'pasid-quota');
    expect(v).toHaveLength(1);
    expect(v[0]!.events).toEqual(expect.arrayContaining([starved.seq, base[2]!.seq]));
    // the VM that holds the most exhausted the space itself (found by explore under mainline)
    const hog = [ev('vfio-type1', 'pasid.allocated', { vm: 'vm2', pasid: 5 }), ...[6, 7, 8].map((pasid) => ev('vfio-type1', 'pasid.allocated', { vm: 'vm3', pasid }))];
    const spaceFull = (vm: string) => ev('vfio-type1', 'pasid_request.rejected', { vm, space: true, range: [1, 0xfffff] });
    expect(checkHistory([...hog, spaceFull('vm3')]).violations).toEqual([]);
    expect(checkHistory([...hog, spaceFull('vm2')]).violations.map((x) => x.message)).toEqual([expect.stringMatching(/VM vm2 holds 1 .* held by vm3 \(3\)/)]);
  });

  it('invalidation-order is per device: a second device torn down after the first one\'s wait keeps its own order; a clear after the wait on the same device does not', () => {
    const teardown = (dev: string) => [
      ev('host-vtd', 'pasid_entry.cleared', { dev, pasid: 3, did: 2, vm: 'vm1', fpd: true, via: 'intel_pasid_tear_down_entry' }, 'step-9'),
      ev('host-vtd', 'qi.pasid_cache', { did: 2, pasid: 3, granu: 'PASID_SEL', devs: [], processed: 0, why: 'teardown' }, 'step-9'),
      ev('host-vtd', 'qi.piotlb', { did: 2, pasid: 3, granu: 'NONG_PASID', addr: 0, npages: -1, pages: [], processed: 0, why: 'teardown' }, 'step-9'),
      ev('host-vtd', 'qi.devtlb', { sid: dev, pasid: 3, addr: 0, npages: -1, size: 'S=1 (all)', why: 'teardown' }, 'step-9'),
      ev('host-vtd', 'qi.wait', { pasid: 3, why: 'unbind' }, 'step-9'),
    ];
    const order = (es: LogEntry[]) => checkHistory(es).violations.filter((v) => v.invariant === 'invalidation-order');
    expect(order([...teardown('6a:01.0'), ...teardown('6b:01.0')])).toEqual([]);
    const again = ev('host-vtd', 'pasid_entry.cleared', { dev: '6b:01.0', pasid: 3, did: 2, vm: 'vm1', fpd: true, via: 'intel_pasid_tear_down_entry' }, 'step-9');
    const v = order([...teardown('6b:01.0'), again]);
    expect(v.map((x) => x.message)).toEqual([expect.stringMatching(/pasid_entry.cleared for PASID 3 came after qi.wait/)]);
  });

  it('invalidation-order: CACHE_INVLD flushes each device of the container in its own call, each with its own order; a flush after the wait within one call is out of order', async () => {
    // one group of two mdevs on one parent: VFIO calls intel_iommu_sva_invalidate for each (found by explore under mainline)
    const sc = `
name: invalidate-two-mdevs
description: a guest IOTLB invalidation on a container of two mdevs of one parent
parents:
  - { id: dsa0, kind: iommu-backed, rid: "6a:01.0", ats: true }
vms:
  - id: vm1
    mdevs:
      - { id: mdev1, parent: dsa0, group: g1 }
      - { id: mdev2, parent: dsa0, group: g1 }
steps:
  - { op: pasid_alloc, vm: vm1, as: p }
  - { op: iotlb_invalidate, vm: vm1, pasid: $p, granularity: addr, addr: 0x400000, pages: 1, expect: ok }
`;
    const r = await run(sc, 'mainline');
    expect(r.entries.filter((e) => e.kind === 'event' && e.type === 'qi.wait')).toHaveLength(2);
    expect(checkHistory(r.entries).violations).toEqual([]);
    // the parent surprise-removed first: each call's devTLB flush is skipped, and it ends with no wait
    const gone = await run(sc.replace('steps:\n', 'steps:\n  - { op: device_remove, parent: dsa0 }\n'), 'mainline');
    expect(gone.entries.filter((e) => e.kind === 'event' && e.type === 'qi.devtlb_skipped')).toHaveLength(2);
    expect(checkHistory(gone.entries).violations).toEqual([]);
    const flush = (type: string, extra: Record<string, unknown>) => ev('host-vtd', type, { pasid: 3, why: 'CACHE_INVLD ADDR', ...extra }, 'step-4');
    const late = [flush('qi.piotlb', {}), flush('qi.devtlb', { sid: '6a:01.0', addr: 0, npages: 1 }), ev('host-vtd', 'qi.wait', { pasid: 3, why: 'CACHE_INVLD' }, 'step-4'), flush('qi.devtlb', { sid: '6a:01.0', addr: 0, npages: 1 })];
    expect(checkHistory(late).violations.map((v) => v.message)).toEqual([expect.stringMatching(/qi.devtlb for PASID 3 came after qi.wait/)]);
  });

  it('drain-before-reuse: a PASID freed with a page request reported to the guest and never answered, or after an unbind that did not drain, is a violation; the drain answering it is not', () => {
    const drain = (es: LogEntry[]) => checkHistory(es).violations.filter((v) => v.invariant === 'drain-before-reuse').map((v) => v.message);
    const issued = ev('mdev-parent', 'page_request.issued', { rid: '6a:01.0', pasid: 3, prg: 0, needsResponse: true });
    const reported = ev('host-vtd', 'page_request.reported', { vm: 'vm1', rid: '6a:01.0', mdev: 'wq1', pasid: 3, addr: 0x800000, prg: 0, lpig: true, pdp: false, write: false, needsResponse: true });
    const freed = ev('host-vtd', 'ioasid.freed', { set: 'vm1', pasid: 3, bound: [] });
    expect(drain([issued, reported, freed])).toEqual([expect.stringMatching(/reported to the guest and never answered/)]);
    const byDrain = ev('host-vtd', 'fault.responded', { vm: 'vm1', rid: '6a:01.0', pasid: 3, prg: 0, by: 'drain' });
    expect(drain([issued, reported, byDrain, freed])).toEqual([]);
    // a request that needs no response is done once reported
    const noLpig = ev('host-vtd', 'page_request.reported', { vm: 'vm1', rid: '6a:01.0', mdev: 'wq1', pasid: 3, addr: 0x800000, prg: 0, lpig: false, pdp: false, write: false, needsResponse: false });
    expect(drain([issued, noLpig, freed])).toEqual([]);
    const undrained = ev('host-vtd', 'svm.unbound', { vm: 'vm1', dev: '6a:01.0', hpasid: 3, unwind: false, drained: false });
    expect(drain([undrained, freed])).toEqual([expect.stringMatching(/after an unbind that did not drain/)]);
    const drained = ev('host-vtd', 'svm.unbound', { vm: 'vm1', dev: '6a:01.0', hpasid: 3, unwind: false, drained: true });
    expect(drain([drained, freed])).toEqual([]);
  });

  it('page-response: an unanswered LPIG request is a violation unless its PASID was torn down after it', () => {
    const issued = ev('mdev-parent', 'page_request.issued', { rid: '6a:01.0', pasid: 3, prg: 0, needsResponse: true });
    expect(checkHistory([issued]).violations.map((v) => v.invariant)).toEqual(['page-response']);
    const torn = ev('host-vtd', 'svm.unbound', { dev: '6a:01.0', hpasid: 3 });
    expect(checkHistory([issued, torn]).violations).toEqual([]);
    const answered = ev('mdev-parent', 'page_response.received', { rid: '6a:01.0', pasid: 3, prg: 0, matched: true });
    expect(checkHistory([issued, answered]).violations).toEqual([]);
  });

  it('page-response: a request still in the PRQ at the end, the interrupt held and no pass since, is not due yet; one a pass went over is', () => {
    // prq_irq manual and no prq_irq step (found by explore under mainline)
    const issued = ev('mdev-parent', 'page_request.issued', { rid: '6a:01.0', pasid: 170, prg: 7, needsResponse: true });
    const queued = ev('host-vtd', 'prq.queued', { rid: '6a:01.0', pasid: 170, prg: 7 });
    expect(checkHistory([issued, queued]).violations).toEqual([]);
    const pass = ev('host-vtd', 'prq.pass_done', { handled: 1, why: 'prq_irq step' });
    expect(checkHistory([issued, queued, pass]).violations.map((v) => v.message)).toEqual([expect.stringMatching(/PRG 7 of \(6a:01.0, PASID 170\) with LPIG\/PDP never got a response/)]);
  });

  it('uapi-errno: 524 to userspace, and success for a refused invalidation of the same operation', () => {
    const leak: LogEntry = { ...ev('vfio-type1', 'VFIO_IOMMU_PASID_REQUEST.ret', { ret: -524 }), kind: 'command', to: 'guest-viommu' };
    expect(checkHistory([leak]).violations.map((v) => v.message)).toEqual([expect.stringMatching(/-524 \(-ENOTSUPP\)/)]);
    const refused = ev('host-vtd', 'sva_invalidate.unsupported', { cache: 'PASID', granularity: 'PASID', kind: 'unsupported' }, 'step-7');
    const ok: LogEntry = { ...ev('vfio-type1', 'VFIO_IOMMU_NESTING_OP.ret', { ret: 0 }, 'step-7'), kind: 'command', to: 'guest-viommu' };
    const v = checkHistory([refused, ok]).violations;
    expect(v.map((x) => x.invariant)).toEqual(['uapi-errno']);
    expect(v[0]!.events).toEqual([refused.seq, ok.seq]);
    const otherOp: LogEntry = { ...ok, correlationId: 'step-8' };
    expect(checkHistory([refused, otherOp]).violations).toEqual([]);
  });

  it('drain-before-reuse: a free while bound, and a free with a page request still on its way', () => {
    const freedBound = ev('host-vtd', 'ioasid.freed', { set: 'vm1', pasid: 3, bound: ['6a:01.0'] });
    expect(checkHistory([freedBound]).violations.map((v) => v.invariant)).toEqual(['drain-before-reuse']);
    // bound, unbound (no drain recorded either way here), then a request on its way when it is freed
    const bound = ev('host-vtd', 'svm.bound', { vm: 'vm1', dev: '6a:01.0', mdev: 'mdev1', domain: 1, hpasid: 4, gpasid: 4, sid: '6a:01.0', owner: 'vm1' });
    const issued = ev('mdev-parent', 'page_request.issued', { rid: '6a:01.0', pasid: 4, prg: 1, needsResponse: false });
    const freed = ev('host-vtd', 'ioasid.freed', { set: 'vm1', pasid: 4, bound: [] });
    expect(checkHistory([bound, issued, freed]).violations.map((v) => v.invariant)).toEqual(['drain-before-reuse']);
    const handled = ev('host-vtd', 'page_request.reported', { rid: '6a:01.0', pasid: 4, prg: 1 });
    expect(checkHistory([bound, issued, handled, freed]).violations).toEqual([]);
    // never bound: no drain is owed (the PRQ thread answers it INVALID)
    expect(checkHistory([issued, freed]).violations).toEqual([]);
  });
});
