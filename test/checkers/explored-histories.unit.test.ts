// Histories exploration under mainline found: legitimate ones a checker misread, and the model's own
// mistakes (docs/exploration.md).
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../libs/checkers/src/index.js';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { loadScenario, ScenarioSchema } from '../../libs/scenario/src/index.js';
import { DOCUMENTED_QUIRKS, quirkOf } from '../../libs/explore/src/index.js';

/** A DMA that faults and asks for the page; the PRQ interrupt held or not; a prq_irq step after it or not. */
async function liveness(prqIrq: 'auto' | 'manual', policy = 'mainline') {
  const sc = ScenarioSchema.parse({
    name: 'dma-waits-on-prq', description: 'a faulting DMA waits for its page response',
    host: { prq_irq: prqIrq },
    parents: [{ id: 'dsa0', kind: 'iommu-backed', rid: '6a:01.0' }],
    vms: [{ id: 'vm1', mdevs: [{ id: 'mdev1', parent: 'dsa0' }] }],
    steps: [
      { op: 'pasid_alloc', vm: 'vm1', as: 'p' },
      { op: 'bind', vm: 'vm1', pasid: '$p', gpgd: 0x345000 },
      { op: 'dma', mdev: 'mdev1', pasid: '$p', va: 0x400000 },
    ],
  });
  const run = await runEmbedded({ runId: 'l', scenario: sc, policy: resolvePolicy(policy), seed: 1 });
  const timedOut = run.entries.filter((e) => e.type === 'step.completed' && e.kind === 'event' && (e.payload as { outcome: { timeout?: boolean } }).outcome.timeout);
  return { timedOut: timedOut.length, violations: checkHistory(run.entries).violations.filter((v) => v.invariant === 'liveness') };
}

describe('liveness', () => {
  it('a DMA waiting on a page request the scenario holds in the PRQ (prq_irq manual) is not hung by the kernel', async () => {
    const r = await liveness('manual');
    expect(r.timedOut).toBe(1);
    expect(r.violations).toEqual([]);
  });

  it('the same DMA with the interrupt raised completes', async () => {
    const r = await liveness('auto');
    expect(r.timedOut).toBe(0);
    expect(r.violations).toEqual([]);
  });
  it('a DMA racing a failed bind\'s unwind completes: the drain\'s pass answers its page request INVALID, the sdev already unlinked', async () => {
    // the schedule explore found it with; before the fix the drain reported the request to the guest,
    // whose answer came after the unbind, was refused (-ENODEV) and never reached the device
    const run = await runEmbedded({ runId: 'r', scenario: loadScenario(new URL('./fixtures/dma-racing-unwind.yaml', import.meta.url).pathname), policy: resolvePolicy('mainline'), seed: 3553264053, bias: 0 });
    const host = run.entries.filter((e) => e.kind === 'event' && e.component === 'host-vtd');
    // the bind step's unwind (the VMM's ioctl_bind unwinds once before it)
    const at = (type: string) => host.findLastIndex((e) => e.type === type);
    const byDrain = host.filter((e, i) => e.type === 'page_response.sent' && i > at('svm.sdev_unlinked') && i < at('svm.unbound'));
    // the race happened: both requests (mdev2's held one and the DMA's) were handled inside the unbind
    expect(byDrain.map((e) => (e.payload as { why?: string }).why)).toEqual([expect.stringMatching(/^no sdev/), expect.stringMatching(/^no sdev/)]);
    expect(host.filter((e) => e.type === 'page_request.reported')).toEqual([]);
    const dma = run.entries.filter((e) => e.kind === 'event' && e.type === 'step.completed' && (e.payload as { op: string }).op === 'dma');
    expect(dma.map((e) => (e.payload as { got: string }).got)).toEqual(['EFAULT']);
    expect(checkHistory(run.entries).violations).toEqual([]);
  });
});

describe('liveness and page-response: waits and answers the scenario caused', () => {
  const fixture = (name: string) => loadScenario(new URL(`./fixtures/${name}.yaml`, import.meta.url).pathname);
  const events = (run: Awaited<ReturnType<typeof runEmbedded>>, type: string) => run.entries.filter((e) => e.kind === 'event' && e.type === type).map((e) => e.payload as Record<string, unknown>);

  it('a DMA waiting on a fault its guest keeps (page_requests: ignore) is not hung by the kernel; answered, it completes', async () => {
    const kept = await runEmbedded({ runId: 'k', scenario: fixture('guest-keeps-fault'), policy: resolvePolicy('mainline'), seed: 1 });
    expect(events(kept, 'guest_fault.pending')).toHaveLength(1);
    expect(events(kept, 'step.completed').filter((c) => (c.outcome as { timeout?: boolean }).timeout)).toHaveLength(1);
    expect(checkHistory(kept.entries).violations).toEqual([]);
    // the same guest answering: the DMA completes, so the excuse is the guest's keeping, nothing else
    const sc = fixture('guest-keeps-fault');
    const answered = await runEmbedded({ runId: 'a', scenario: { ...sc, vms: sc.vms.map((v) => ({ ...v, page_requests: 'respond' as const })) }, policy: resolvePolicy('mainline'), seed: 1 });
    expect(events(answered, 'step.completed').filter((c) => (c.outcome as { timeout?: boolean }).timeout)).toEqual([]);
  });

  it('a quiesce waiting for a workload DMA is excused as the DMA is: a held PRQ interrupt, or a guest that keeps its faults; otherwise it completes', async () => {
    const timedOut = (run: Awaited<ReturnType<typeof runEmbedded>>) => events(run, 'step.completed').filter((c) => (c.outcome as { timeout?: boolean }).timeout).map((c) => c.op);
    const sc = fixture('quiesce-held-prq');
    const held = await runEmbedded({ runId: 'q', scenario: sc, policy: resolvePolicy('mainline'), seed: 1 });
    expect(timedOut(held)).toEqual(['quiesce']);
    expect(checkHistory(held.entries).violations).toEqual([]);
    const keeps = await runEmbedded({ runId: 'k', scenario: { ...sc, host: { ...sc.host, prq_irq: 'auto' }, vms: sc.vms.map((v) => ({ ...v, page_requests: 'ignore' as const })) }, policy: resolvePolicy('mainline'), seed: 1 });
    expect(timedOut(keeps)).toEqual(['quiesce']);
    expect(checkHistory(keeps.entries).violations).toEqual([]);
    const answered = await runEmbedded({ runId: 'a', scenario: { ...sc, host: { ...sc.host, prq_irq: 'auto' } }, policy: resolvePolicy('mainline'), seed: 1 });
    expect(timedOut(answered)).toEqual([]);
  });

  it('a device that reuses an outstanding PRG index gets a second answer it has no request for: its doing, not the host\'s', async () => {
    const run = await runEmbedded({ runId: 'p', scenario: fixture('prg-index-reused'), policy: resolvePolicy('mainline'), seed: 1 });
    expect(events(run, 'page_response.received').map((p) => p.matched)).toEqual([true, false]);
    expect(checkHistory(run.entries).violations).toEqual([]);
    // a response to a group never issued at all is still the host's fault
    const stray = run.entries.filter((e) => !(e.kind === 'event' && e.type === 'page_request.issued' && e.seq === run.entries.find((x) => x.kind === 'event' && x.type === 'page_request.issued')!.seq));
    expect(checkHistory(stray).violations.map((v) => v.invariant)).toContain('page-response');
  });
});

describe('dma-isolation', () => {
  const isolation = async (file: string, preset = 'mainline', sets: Parameters<typeof resolvePolicy>[1] = {}) => {
    const run = await runEmbedded({ runId: 'i', scenario: loadScenario(file), policy: resolvePolicy(preset, sets), seed: 1 });
    return { run, found: checkHistory(run.entries).violations.filter((v) => v.invariant === 'dma-isolation') };
  };

  it('does not blame the host for a device that presents another VM\'s PASID: the IOMMU tells a parent\'s mdevs apart by PASID alone', async () => {
    const { run, found } = await isolation('test/checkers/fixtures/device-presents-foreign-pasid.yaml');
    // the DMA did reach vm3's memory, through mdev6's default PASID
    expect(run.entries.filter((e) => e.kind === 'event' && e.type === 'dma.completed').map((e) => (e.payload as { pasid: number }).pasid)).toEqual([5]);
    expect(run.entries.some((e) => e.kind === 'event' && e.type === 'aux.attached' && (e.payload as { defaultPasid: number; vm: string }).defaultPasid === 5 && (e.payload as { vm: string }).vm === 'vm3')).toBe(true);
    expect(found).toEqual([]);
  });

  it('nor for a page request on a PASID the device\'s VM freed before issuing it; a request issued while its VM owned the PASID still may not reach the next owner (bug #10)', async () => {
    const freed = await isolation('test/checkers/fixtures/device-presents-freed-pasid.yaml');
    expect(freed.run.entries.filter((e) => e.kind === 'event' && e.type === 'page_request.reported').map((e) => (e.payload as { vm: string }).vm)).toEqual(['vm2']);
    expect(freed.found).toEqual([]);
    const bug10 = await isolation('scenarios/prq-no-drain-pasid-reuse.yaml', 'mainline', { 'vtd.drain_prq': false });
    expect(bug10.found.map((v) => v.message)).toEqual([expect.stringMatching(/page request of mdev1 \(VM vm1\) on PASID \d+ was reported to VM vm2/)]);
  });
});

describe('pasid-ownership', () => {
  it('names bug #5 when an unsupported invalidation answers 0 on another VM\'s PASID (the loop breaks before ioasid_find): a documented quirk; a supported one is refused', async () => {
    const file = 'test/checkers/fixtures/unsupported-inval-foreign-pasid.yaml';
    const run = await runEmbedded({ runId: 'o', scenario: loadScenario(file), policy: resolvePolicy('mainline'), seed: 1 });
    const found = checkHistory(run.entries).violations.filter((v) => v.invariant === 'pasid-ownership');
    expect(found.map((v) => v.message)).toEqual([expect.stringMatching(/belongs to vm1 \(the invalidation was DEV_IOTLB x PASID, unsupported: the loop broke with 0 before ioasid_find/)]);
    expect(quirkOf(DOCUMENTED_QUIRKS, { ...found[0]!, signature: '' }, 'mainline')).toBeDefined();
    // IOTLB x PASID is in the map: ioasid_find runs and refuses vm1's PASID to vm2
    const sc = loadScenario(file);
    const supported = await runEmbedded({ runId: 's', scenario: { ...sc, steps: sc.steps.map((st) => (st.op === 'ioctl_invalidate' ? { ...st, cache: 1, granularity: 1 } : st)) }, policy: resolvePolicy('mainline'), seed: 1 });
    expect(checkHistory(supported.entries).violations.filter((v) => v.invariant === 'pasid-ownership')).toEqual([]);
    expect(supported.entries.filter((e) => e.kind === 'event' && e.type === 'sva_invalidate.rejected').map((e) => (e.payload as { errno: string }).errno)).toEqual(['EINVAL']);
  });
});

describe('invalidation-order', () => {
  it('judges each device\'s teardown by the device its flushes and waits name: an ITE resubmission after the other device\'s final wait is in order', async () => {
    const run = await runEmbedded({ runId: 'i', scenario: loadScenario('test/checkers/fixtures/unwind-ite-resubmit.yaml'), policy: resolvePolicy('mainline'), seed: 1861869243, bias: 0.5 });
    const host = run.entries.filter((e) => e.kind === 'event' && e.component === 'host-vtd');
    const firstWait = host.findIndex((e) => e.type === 'qi.wait' && (e.payload as { why: string }).why === 'unbind');
    // the interleaving happened: the other device's teardown flush was resubmitted after the first device's final wait
    const resubmitted = host.slice(firstWait).filter((e) => e.type === 'qi.devtlb' && (e.payload as { why: string; sid: string }).why === 'teardown');
    expect(resubmitted.map((e) => (e.payload as { sid: string }).sid)).toEqual(['6b:01.0']);
    expect((host[firstWait]!.payload as { dev: string }).dev).toBe('6a:01.0');
    expect(checkHistory(run.entries).violations).toEqual([]);
  });

  it('a failed bind\'s unwind tears down each bound device in its own order, even when the host interleaves two devices', async () => {
    const sc = ScenarioSchema.parse({
      name: 'unwind-two-devices', description: 'a bind that fails on its third device unwinds the first two (found by explore under mainline)',
      parents: [{ id: 'dsa1', kind: 'iommu-backed', rid: '6b:01.0' }, { id: 'dsa2', kind: 'iommu-backed', rid: '6c:01.0' }],
      vms: [{ id: 'vm1', mdevs: [{ id: 'mdev1', parent: 'dsa2' }, { id: 'mdev2', parent: 'dsa1' }, { id: 'mdev3', parent: 'dsa2' }] }],
      steps: [{ op: 'pasid_alloc', vm: 'vm1', as: 'p' }, { op: 'ioctl_bind', vm: 'vm1', hpasid: '$p' }],
    });
    const run = await runEmbedded({ runId: 'u', scenario: sc, policy: resolvePolicy('mainline'), seed: 1 });
    const cleared = run.entries.filter((e) => e.type === 'pasid_entry.cleared').map((e) => (e.payload as { dev: string }).dev);
    expect(new Set(cleared).size).toBe(2);
    expect(checkHistory(run.entries).violations.filter((v) => v.invariant === 'invalidation-order')).toEqual([]);
  });
});

describe('no-stale-translation', () => {
  const stale = async (file: string, preset: string) => {
    const run = await runEmbedded({ runId: 's', scenario: loadScenario(file), policy: resolvePolicy(preset), seed: 1 });
    return checkHistory(run.entries).violations.filter((v) => v.invariant === 'no-stale-translation');
  };

  it('names an unbind that never reached the host because the mdev lost its IOMMU device (the fault model): a documented quirk', async () => {
    const found = await stale('test/checkers/fixtures/stale-after-unbind-lost-iommu-device.yaml', 'mainline');
    expect(found.length).toBeGreaterThan(0);
    for (const v of found) {
      expect(v.message).toMatch(/after VM vm1's unbind completed.*the unbind never reached the host: mdev1 lost its IOMMU device while bound/);
      expect(quirkOf(DOCUMENTED_QUIRKS, { ...v, signature: '' }, 'mainline')).toBeDefined();
    }
  });

  it('does not hold the host to an IOTLB flush the VMM did not ask for (DEV_IOTLB alone); the same with IOTLB asked is flushed', async () => {
    const file = 'test/checkers/fixtures/stale-iotlb-after-devtlb-only.yaml';
    const run = await runEmbedded({ runId: 'd', scenario: loadScenario(file), policy: resolvePolicy('mainline'), seed: 1 });
    // the IOTLB did answer the second DMA, with the page the first DMA was given, not the remapped one
    const done = run.entries.filter((e) => e.kind === 'event' && e.type === 'translation.done').map((e) => e.payload as { source: string; hpa: number });
    expect(done.map((d) => d.source)).toEqual([expect.not.stringMatching(/^iotlb$/), 'iotlb']);
    expect(done[1]!.hpa).toBe(done[0]!.hpa);
    // and the device TLB, refilled from it, answered the third
    expect(run.entries.filter((e) => e.kind === 'event' && e.type === 'dma.completed').map((e) => (e.payload as { source: string }).source)).toEqual(['ats', 'ats', 'devtlb']);
    expect(checkHistory(run.entries).violations).toEqual([]);
    const sc = loadScenario(file);
    const both = await runEmbedded({ runId: 'b', scenario: { ...sc, steps: sc.steps.map((st) => (st.op === 'ioctl_invalidate' ? { ...st, cache: 3 } : st)) }, policy: resolvePolicy('mainline'), seed: 1 });
    expect(both.entries.filter((e) => e.kind === 'event' && e.type === 'translation.done' && (e.payload as { source: string }).source === 'iotlb')).toEqual([]);
    expect(checkHistory(both.entries).violations).toEqual([]);
  });

  it('names an invalidation the IOMMU refused as unsupported and reported as success (bug #5), so the quirk list can tell it from a new stale translation', async () => {
    const bug5 = await stale('test/checkers/fixtures/stale-after-unsupported-inval.yaml', 'mainline');
    expect(bug5).toHaveLength(1);
    expect(quirkOf(DOCUMENTED_QUIRKS, { ...bug5[0]!, signature: '' }, 'mainline')?.why).toMatch(/bug #5/);
    // bug #9's stale entry came from a supported flush: reported, not a quirk
    const bug9 = await stale('scenarios/devtlb-pasid-flush-user-range.yaml', 'v6');
    expect(bug9.length).toBeGreaterThan(0);
    for (const v of bug9) expect(quirkOf(DOCUMENTED_QUIRKS, { ...v, signature: '' }, 'v6')).toBeUndefined();
  });
});

describe('drain-before-reuse', () => {
  const freedBound = async (file: string, preset: string) => {
    const run = await runEmbedded({ runId: 'd', scenario: loadScenario(file), policy: resolvePolicy(preset), seed: 1 });
    return checkHistory(run.entries).violations.filter((v) => v.invariant === 'drain-before-reuse' && v.message.includes('still bound'));
  };

  it('says when a PASID outlives its free because its mdev lost its IOMMU device while bound (the fault model), and only then', async () => {
    const lost = await freedBound('test/checkers/fixtures/teardown-after-lost-iommu-device.yaml', 'mainline');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.message).toMatch(/mdev1 lost its IOMMU device while bound/);
    expect(quirkOf(DOCUMENTED_QUIRKS, { ...lost[0]!, signature: '' }, 'mainline')).toBeDefined();
    // bug #11: free before unbind, no fault model: reported
    const bug11 = await freedBound('scenarios/pasid-free-before-unbind.yaml', 'v7');
    expect(bug11).toHaveLength(1);
    expect(quirkOf(DOCUMENTED_QUIRKS, { ...bug11[0]!, signature: '' }, 'v7')).toBeUndefined();
  });

  it('names the lost IOMMU device in every consequence of the missing unbind: a fault the guest kept is never drained either', async () => {
    const run = await runEmbedded({ runId: 'k', scenario: loadScenario('test/checkers/fixtures/fault-kept-after-lost-iommu-device.yaml'), policy: resolvePolicy('mainline'), seed: 1 });
    const found = checkHistory(run.entries).violations.filter((v) => v.invariant === 'drain-before-reuse');
    expect(found.map((v) => v.message)).toEqual([expect.stringMatching(/still bound/), expect.stringMatching(/reported to the guest and never answered \(mdev2 lost its IOMMU device while bound/)]);
    for (const v of found) expect(quirkOf(DOCUMENTED_QUIRKS, { ...v, signature: '' }, 'mainline')).toBeDefined();
  });
});

describe('intel_iommu_sva_invalidate', () => {
  it('takes an ADDR-granular request with granule_size 0 as one page, as order_base_2(0) = 0 does (the model refused it; the uAPI rules did not: explore under mainline)', async () => {
    const sc = ScenarioSchema.parse({
      name: 'granule-zero', description: 'an ADDR-granular invalidation with granule_size 0',
      parents: [{ id: 'dsa0', kind: 'iommu-backed', rid: '6a:01.0' }],
      vms: [{ id: 'vm1', mdevs: [{ id: 'mdev1', parent: 'dsa0' }] }],
      steps: [
        { op: 'pasid_alloc', vm: 'vm1', as: 'p' },
        { op: 'bind', vm: 'vm1', pasid: '$p', gpgd: 0x200000 },
        { op: 'ioctl_invalidate', vm: 'vm1', cache: 1, granularity: 2, pasid: '$p', addr: 0x400000, granule_size: 0 },
      ],
    });
    const run = await runEmbedded({ runId: 'g', scenario: sc, policy: resolvePolicy('mainline'), seed: 1 });
    expect(run.entries.some((e) => e.type === 'sva_invalidate.rejected')).toBe(false);
    const piotlb = run.entries.filter((e) => e.type === 'qi.piotlb' && (e.payload as { why: string }).why.startsWith('CACHE_INVLD'));
    expect(piotlb.map((e) => (e.payload as { npages: number }).npages)).toEqual([1]);
    expect(checkHistory(run.entries).violations).toEqual([]);
  });
});

describe('drain-before-reuse, the PRQ', () => {
  const queuedAtFree = async (file: string, preset: string, sets: Record<string, string | boolean> = {}, seed = 1, bias?: number) => {
    const run = await runEmbedded({ runId: 'q', scenario: loadScenario(file), policy: resolvePolicy(preset, sets), seed, ...(bias === undefined ? {} : { bias }) });
    return checkHistory(run.entries).violations.filter((v) => v.invariant === 'drain-before-reuse' && v.message.includes('not yet drained from the PRQ'));
  };

  it('owes a drain only for requests issued while the PASID was bound (others are answered INVALID by the PRQ thread), and still flags bug #10', async () => {
    // the interleaving explore found: the request lands between the guest's free and the host's
    expect(await queuedAtFree('test/checkers/fixtures/request-on-freed-never-bound.yaml', 'mainline', {}, 565675703, 0.5)).toEqual([]);
    // bound, unbound (drained), then a request on the unbound PASID: the drain was done, none is owed for it
    expect(await queuedAtFree('test/checkers/fixtures/request-after-unbind.yaml', 'mainline')).toEqual([]);
    expect((await queuedAtFree('scenarios/prq-no-drain-pasid-reuse.yaml', 'mainline', { 'vtd.drain_prq': false })).length).toBeGreaterThan(0);
  });
});
