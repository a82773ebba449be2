import { ERRNO, PGTT_NESTED, PGTT_SL_ONLY, type Envelope, type GpasidBindData } from '../../../contracts/src/index.js';
import { drop, evt, put, replyLegacy as reply, type Decider, type Output, type Ret } from '../decider.js';
import { pageOf, vmBase, type RunOpen } from '../topology.js';
import { checkBindGpasid, checkBindUapi } from './bind-gpasid.js';
import { evolveCaches, flushPasidCache, flushPiotlb } from './caches.js';
import { translate, translationEvent } from './dma-walk.js';
import { cacheInvalidate } from './invalidate.js';
import { pageRequest, pageResponse, runPrqThread } from './prq.js';
import { answerCaller, devtlbFlush } from './qi.js';
import { faultKey, memKey, type HostVtdState, type HostWait, type PasidEntry } from './state.js';
import { afterFlush, unbindGpasid } from './unbind.js';

type P = Record<string, unknown> & { vm: string; domain: number; dev: string | null; tag?: string; noreply?: boolean; step?: number };

/** Reply unless the caller said it will not wait (unwinds, frees). */
const answer = (input: Envelope, r: Ret): Output[] => ((input.payload as P).noreply ? [] : [reply(input, r)]);
const stepDone = (input: Envelope, r: Ret): Output[] => [{ kind: 'command', to: 'orchestrator', type: 'step.completed', payload: { step: (input.payload as P).step!, outcome: r } }];

/** A host driver entry point handed a NULL device: the machine oopses in `fn`. */
function oops(input: Envelope, fn: string, detail: string): Output[] {
  return [evt('oops', { fn, what: 'BUG: kernel NULL pointer dereference', detail, vm: (input.payload as P).vm }), ...answer(input, { ret: -ERRNO.EFAULT, oops: fn })];
}

function firstFree(s: HostVtdState, min: number, max: number): number | null {
  for (let p = Math.max(min, 1); p <= Math.min(max, s.pasidMax - 1); p++) if (!s.ioasid[p]) return p;
  return null;
}

function bindGpasid(s: HostVtdState, input: Envelope): Output[] {
  const p = input.payload as P & { data?: GpasidBindData; mdev?: string };
  // device_to_iommu(dev) dereferences dev->bus before any check: a NULL dev never reaches "!iommu"
  if (p.dev === null || p.dev === undefined) return oops(input, 'intel_svm_bind_gpasid', 'device_to_iommu(dev=NULL) called from iommu_sva_bind_gpasid');
  const rej = checkBindUapi(p.data) ?? checkBindGpasid(s, p.domain, p.dev, p.data!);
  if (rej === 'users') {
    const sdev = s.svm[p.data!.hpasid]!.devs[p.dev]!;
    return [evt('svm.users_inc', { vm: p.vm, dev: p.dev, mdev: p.mdev ?? null, domain: p.domain, hpasid: p.data!.hpasid, users: sdev.users + 1, boundDomain: sdev.domain }), ...answer(input, { ret: 0 })];
  }
  if (rej) return [evt('bind_gpasid.rejected', { vm: p.vm, dev: p.dev, mdev: p.mdev ?? null, hpasid: (p.data as { hpasid?: unknown } | undefined)?.hpasid ?? null, errno: rej.errno, why: rej.why }), ...answer(input, { ret: -ERRNO[rej.errno] })];
  const d = p.data!;
  if (s.policy!['vtd.sdev_iommu_before_alloc'] && !s.svm[d.hpasid]) return oops(input, 'intel_svm_bind_gpasid', 'sdev->iommu = iommu while sdev is still NULL (the !svm branch)');
  const domain = s.domains[p.domain]!;
  const entry: PasidEntry = { p: true, fpd: false, pgtt: PGTT_NESTED, flptr: d.gpgd, did: domain.did, aw: d.addr_width, vm: domain.vm };
  const outs: Output[] = [
    // "Fix sid not set issue": without it sdev->sid stays 0 (bug #7)
    evt('svm.bound', { vm: p.vm, dev: p.dev, mdev: p.mdev ?? null, domain: p.domain, hpasid: d.hpasid, gpasid: d.gpasid, sid: s.policy!['vtd.bind_sets_sdev_sid'] ? p.dev : null, owner: s.ioasid[d.hpasid]?.set ?? null }),
    evt('pasid_entry.set', { dev: p.dev, pasid: d.hpasid, entry, via: 'intel_pasid_setup_nested' }),
  ];
  // caching mode: PASID-cache + PIOTLB invalidation after setup; else a write-buffer flush
  if (s.host!.caching_mode) outs.push(flushPasidCache(s, domain.did, d.hpasid, 'setup_nested (CM)'), flushPiotlb(s, domain.did, d.hpasid, 'all', 'setup_nested (CM)'));
  return [...outs, ...answer(input, { ret: 0 })];
}

function attach(s: HostVtdState, input: Envelope, aux: boolean): Output[] {
  const p = input.payload as P & { mdev: string };
  const fn = aux ? 'intel_iommu_aux_attach_device' : 'intel_iommu_attach_device';
  if (p.dev === null || p.dev === undefined) return oops(input, fn, 'attach of a NULL device');
  const domain = s.domains[p.domain];
  if (!s.devices[p.dev] || !domain) return answer(input, { ret: -ERRNO.ENODEV });
  const have = domain.devs[p.dev];
  if (have) return [evt('aux.attached', { vm: p.vm, domain: p.domain, dev: p.dev, mdev: p.mdev, defaultPasid: have.defaultPasid, aux }), ...answer(input, { ret: 0, value: have.defaultPasid })];
  // the aux domain's default PASID comes from the host's own set; a plain attach uses RID2PASID (0)
  const pasid = aux ? firstFree(s, 1, s.pasidMax - 1) : 0;
  if (pasid === null) return answer(input, { ret: -ERRNO.ENOSPC });
  return [
    ...(aux ? [evt('ioasid.allocated', { set: 'host', pasid })] : []),
    evt('aux.attached', { vm: p.vm, domain: p.domain, dev: p.dev, mdev: p.mdev, defaultPasid: pasid, aux }),
    evt('pasid_entry.set', { dev: p.dev, pasid, entry: { p: true, fpd: false, pgtt: PGTT_SL_ONLY, flptr: 0, did: domain.did, aw: 48, vm: domain.vm }, via: aux ? 'aux domain default PASID' : 'RID2PASID' }),
    ...answer(input, { ret: 0, value: pasid }),
  ];
}

/** aux detach: drop the mdev; the last one clears the default PASID entry and flushes (§2.8). */
function detach(s: HostVtdState, input: Envelope): Output[] {
  const p = input.payload as P & { mdev: string };
  const domain = s.domains[p.domain];
  if (!domain) return [];
  const dev = Object.keys(domain.devs).find((d) => domain.devs[d]!.mdevs.includes(p.mdev));
  if (!dev) return [];
  const info = domain.devs[dev]!;
  const outs: Output[] = [evt('aux.detached', { vm: p.vm, domain: p.domain, dev, mdev: p.mdev, last: info.mdevs.length === 1 })];
  if (info.mdevs.length === 1) {
    outs.push(
      evt('pasid_entry.cleared', { dev, pasid: info.defaultPasid, did: domain.did, vm: domain.vm, fpd: true, via: 'aux detach' }),
      flushPasidCache(s, domain.did, info.defaultPasid, 'aux detach'), flushPiotlb(s, domain.did, info.defaultPasid, 'all', 'aux detach'),
    );
    for (const o of devtlbFlush(s, input, dev, info.defaultPasid, 'all', 'aux detach').outs) outs.push(o);
    if (info.defaultPasid) outs.push(evt('ioasid.freed', { set: 'host', pasid: info.defaultPasid, bound: [] }));
  }
  return outs;
}

/** A device's translation request (ATS) or untranslated DMA: the nested walk, faults recorded unless FPD. */
function dmaRequest(s: HostVtdState, input: Envelope, via: 'ats' | 'untranslated'): Output[] {
  const p = input.payload as { rid: string; pasid: number; va: number; write: boolean; mdev: string };
  const t = translate(s, p.rid, p.pasid, p.va, !!p.write);
  const outs: Output[] = [...t.outs, translationEvent(p.rid, p.pasid, p.va, !!p.write, t, via)];
  if (t.ok) return [...outs, reply(input, { ret: 0, value: { hpa: t.hpa, w: t.w, gpa: t.gpa, vm: t.vm } })];
  const dev = s.devices[p.rid];
  // a first-stage miss from a device with ATS+PRI is recoverable: it answers with a page request
  const recoverable = via === 'ats' && !!dev?.pri && t.level === 'first-stage';
  if (!recoverable) {
    if (t.fpd) outs.push(evt('fault.suppressed', { rid: p.rid, pasid: p.pasid, va: p.va, reason: t.reason, why: 'FPD set in the PASID entry' }));
    else outs.push(evt('fault.recorded', { rid: p.rid, pasid: p.pasid, va: p.va, reason: t.reason, level: t.level, vm: t.vm, mdev: p.mdev, forwarded: t.level !== 'second-stage' }));
  }
  return [...outs, reply(input, { ret: -ERRNO.EFAULT, detail: { reason: t.reason, level: t.level, recoverable } })];
}

/** A device answered a devTLB invalidation: the parked flush or teardown goes on. */
function devtlbDone(s: HostVtdState, input: Envelope): Output[] {
  const r = input.payload as Ret & { tag: string; rid?: string };
  const w = s.waits[r.tag];
  if (!w) return [evt('ignored', { why: `devTLB completion for unknown wait ${r.tag}` })];
  const resumed = evt('qi.wait_resumed', { tag: r.tag });
  if (r.ret < 0) {
    // ITE: the pending wait is aborted, qi_submit_sync resubmits (-EAGAIN), the device never answers (bug #16)
    return [resumed, evt('qi.ite', { rid: (r.detail as { rid?: string })?.rid ?? w.dev, pasid: w.pasid }), evt('qi.hung', { rid: (r.detail as { rid?: string })?.rid ?? w.dev, fn: 'qi_submit_sync', why: 'ITE on an absent device, resubmitted forever (hard lockup)' })];
  }
  const next: HostWait = { ...w, acks: w.acks - 1 };
  if (next.acks > 0) return [resumed, evt('qi.wait_parked', { tag: input.id, wait: next })];
  if (w.kind === 'inval') return [resumed, evt('qi.wait', { pasid: w.pasid, why: 'CACHE_INVLD' }), evt('sva_invalidate.done', { vm: w.vm, dev: w.dev, pasid: w.pasid, ret: w.ret }), ...answerCaller(w.caller, { ret: w.ret })];
  return [resumed, ...afterFlush(s, input, next)];
}

export const hostVtdDecider: Decider<HostVtdState> = {
  component: 'host-vtd',
  initialState: () => ({
    devices: {}, absent: {}, vms: {}, pasidMax: 0x100000, ioasid: {}, domains: {}, nextDomain: 1, nextDid: 2, svm: {}, pasidTable: {},
    pasidCache: {}, iotlb: {}, mem: {}, prq: [], pendingFaults: {}, waits: {}, oops: null, hung: null,
  }),

  decide(s, input): Output[] {
    const p = input.payload as P;
    if (input.type === 'run.open') {
      const o = input.payload as RunOpen;
      const devices = Object.fromEntries(o.topology.parents.filter((x) => x.kind === 'iommu-backed').map((x) => [x.rid!, { parent: x.id, ats: x.ats, pri: x.pri, pasidBits: x.pasid_bits ?? 20, aux: x.aux ?? true }]));
      const vms = Object.fromEntries(o.topology.vms.map((v) => [v.id, { base: vmBase(o.topology, v.id), ram: v.ram_pages ?? 4096 }]));
      return [evt('host.configured', { host: o.topology.host, devices, vms, pasidMax: 2 ** (o.topology.host.pasid_bits ?? 20), policy: o.policy })];
    }
    // a dead machine answers nothing usefully: every caller sees the oops; a hung one answers nothing
    if (s.oops) return answer(input, { ret: -ERRNO.EIO, oops: s.oops.fn });
    if (s.hung) return [evt('ignored', { why: `CPU stuck in qi_submit_sync (ITE on ${s.hung.rid})` })];
    switch (input.type) {
      case 'ioasid_alloc': {
        const pasid = firstFree(s, p.min as number, p.max as number);
        if (pasid === null) return [evt('ioasid.exhausted', { set: p.set, min: p.min, max: p.max, held: Object.keys(s.ioasid).length }), ...answer(input, { ret: -ERRNO.ENOSPC })];
        return [evt('ioasid.allocated', { set: p.set, pasid }), ...answer(input, { ret: 0, value: pasid })];
      }
      case 'ioasid_free': {
        const pasid = p.pasid as number;
        if (s.ioasid[pasid]?.set !== p.set) return [evt('ioasid.free_ignored', { set: p.set, pasid }), ...answer(input, { ret: 0 })];
        return [evt('ioasid.freed', { set: p.set, pasid, bound: Object.keys(s.svm[pasid]?.devs ?? {}) }), ...answer(input, { ret: 0 })];
      }
      case 'iommu_domain_alloc': {
        const domain = s.nextDomain, did = s.nextDid;
        return [evt('domain.allocated', { vm: p.vm, domain, did, nesting: !!p.nesting }), ...answer(input, { ret: 0, value: { domain, did } })];
      }
      case 'iommu_domain_free':
        return s.domains[p.domain] ? [evt('domain.freed', { vm: p.vm, domain: p.domain })] : [];
      case 'iommu_aux_attach_device':
        return attach(s, input, true);
      case 'iommu_attach_device':
        return attach(s, input, false);
      case 'iommu_aux_detach_device':
        return detach(s, input);
      case 'iommu_sva_bind_gpasid':
        return bindGpasid(s, input);
      case 'iommu_sva_unbind_gpasid':
        return unbindGpasid(s, input, (fn, detail) => oops(input, fn, detail));
      case 'iommu_cache_invalidate':
        return cacheInvalidate(s, input);
      case 'ats_translate':
        return dmaRequest(s, input, 'ats');
      case 'dma_request':
        return dmaRequest(s, input, 'untranslated');
      case 'devtlb_invalidate.ret':
        return devtlbDone(s, input);
      case 'page_request':
        return pageRequest(s, input);
      case 'iommu_page_response':
        return pageResponse(s, input);
      case 'pci_surprise_removal':
        return [evt('device.absent', { rid: p.rid }), ...(typeof p.step === 'number' ? stepDone(input, { ret: 0 }) : [])];
      case 'step.prq_irq':
        return [...runPrqThread(s, s.prq, 'prq_irq step'), ...stepDone(input, { ret: 0 })];
      case 'step.guest_map':
      case 'step.guest_unmap':
      case 'mem.write_pte': {
        const m = p as unknown as { vm: string; gpgd: number; va: number; gpa?: number; write?: boolean; pages?: number };
        if (!s.vms[m.vm]) return input.type === 'mem.write_pte' ? [] : stepDone(input, { ret: -ERRNO.ENODEV });
        const map = input.type !== 'step.guest_unmap';
        const e = evt(map ? 'mem.pte_written' : 'mem.pte_cleared', { vm: m.vm, gpgd: m.gpgd, table: pageOf(m.gpgd), page: pageOf(m.va), pages: m.pages ?? 1, ...(map ? { gpa: pageOf(m.gpa ?? 0), w: m.write !== false } : {}), by: input.type === 'mem.write_pte' ? 'guest fault handler' : 'guest CPU' });
        return [e, ...(input.type === 'mem.write_pte' ? [] : stepDone(input, { ret: 0 }))];
      }
      default:
        return [evt('ignored', { why: `host-vtd has no handler for ${input.type}` })];
    }
  },

  evolve(s, o): HostVtdState {
    if (o.kind !== 'event') return s;
    const p = o.payload as Record<string, unknown>;
    const cached = evolveCaches(s, o.type, p);
    if (cached) return cached;
    switch (o.type) {
      case 'host.configured':
        return { ...s, host: p.host as HostVtdState['host'], devices: p.devices as HostVtdState['devices'], vms: p.vms as HostVtdState['vms'], pasidMax: p.pasidMax as number, policy: p.policy as HostVtdState['policy'] };
      case 'oops':
        return { ...s, oops: { fn: p.fn as string } };
      case 'qi.hung':
        return { ...s, hung: { rid: p.rid as string } };
      case 'device.absent':
        return { ...s, absent: put(s.absent, p.rid as string, true as const) };
      case 'ioasid.allocated':
        return { ...s, ioasid: put(s.ioasid, p.pasid as number, { set: p.set as string }) };
      case 'ioasid.freed':
        return { ...s, ioasid: drop(s.ioasid, p.pasid as number) };
      case 'domain.allocated':
        return { ...s, nextDomain: s.nextDomain + 1, nextDid: s.nextDid + 1, domains: put(s.domains, p.domain as number, { vm: p.vm as string, nesting: p.nesting as boolean, did: p.did as number, devs: {} }) };
      case 'domain.freed':
        return { ...s, domains: drop(s.domains, p.domain as number) };
      case 'aux.attached': {
        const d = s.domains[p.domain as number]!;
        const dev = p.dev as string;
        const prev = d.devs[dev];
        const devs = put(d.devs, dev, { mdevs: [...(prev?.mdevs ?? []), p.mdev as string], defaultPasid: prev?.defaultPasid ?? (p.defaultPasid as number) });
        return { ...s, domains: put(s.domains, p.domain as number, { ...d, devs }) };
      }
      case 'aux.detached': {
        const d = s.domains[p.domain as number]!;
        const dev = p.dev as string;
        const mdevs = d.devs[dev]!.mdevs.filter((m) => m !== p.mdev);
        const devs = mdevs.length ? put(d.devs, dev, { ...d.devs[dev]!, mdevs }) : drop(d.devs, dev);
        return { ...s, domains: put(s.domains, p.domain as number, { ...d, devs }) };
      }
      case 'pasid_entry.set':
        return { ...s, pasidTable: put(s.pasidTable, p.dev as string, put(s.pasidTable[p.dev as string] ?? {}, p.pasid as number, p.entry as PasidEntry)) };
      case 'pasid_entry.cleared': {
        const old = s.pasidTable[p.dev as string]?.[p.pasid as number];
        const cleared: PasidEntry = { p: false, fpd: !!p.fpd, pgtt: 0, flptr: 0, did: old?.did ?? 0, aw: 0 };
        return { ...s, pasidTable: put(s.pasidTable, p.dev as string, put(s.pasidTable[p.dev as string] ?? {}, p.pasid as number, cleared)) };
      }
      case 'svm.bound': {
        const pasid = p.hpasid as number;
        const svm = s.svm[pasid] ?? { gpasid: p.gpasid as number, vm: p.vm as string, guestMode: true, devs: {} };
        return { ...s, svm: put(s.svm, pasid, { ...svm, devs: put(svm.devs, p.dev as string, { sid: p.sid as string | null, users: 1, domain: p.domain as number }) }) };
      }
      case 'svm.users_inc':
      case 'svm.users_dec': {
        const pasid = p.hpasid as number;
        const svm = s.svm[pasid]!;
        return { ...s, svm: put(s.svm, pasid, { ...svm, devs: put(svm.devs, p.dev as string, { ...svm.devs[p.dev as string]!, users: p.users as number }) }) };
      }
      case 'svm.unbound': {
        const pasid = p.hpasid as number;
        const svm = s.svm[pasid];
        if (!svm) return s;
        const devs = drop(svm.devs, p.dev as string);
        return { ...s, svm: Object.keys(devs).length ? put(s.svm, pasid, { ...svm, devs }) : drop(s.svm, pasid) };
      }
      case 'mem.pte_written':
      case 'mem.pte_cleared': {
        const k = memKey(p.vm as string, p.table as number);
        const t = { ...(s.mem[k] ?? {}) };
        for (let i = 0; i < (p.pages as number); i++) {
          if (o.type === 'mem.pte_written') t[(p.page as number) + i] = { gpa: (p.gpa as number) + i, w: p.w as boolean };
          else delete t[(p.page as number) + i];
        }
        return { ...s, mem: put(s.mem, k, t) };
      }
      case 'prq.queued':
        return { ...s, prq: [...s.prq, p.req as HostVtdState['prq'][number]] };
      case 'prq.pass_done':
        return { ...s, prq: [] };
      case 'page_request.reported':
        return { ...s, pendingFaults: put(s.pendingFaults, faultKey(p.rid as string, p.pasid as number, p.prg as number), { vm: p.vm as string, needsResponse: p.needsResponse as boolean }) };
      case 'fault.responded':
        return { ...s, pendingFaults: drop(s.pendingFaults, faultKey(p.rid as string, p.pasid as number, p.prg as number)) };
      case 'qi.wait_parked':
        return { ...s, waits: put(s.waits, p.tag as string, p.wait as HostWait) };
      case 'qi.wait_resumed':
        return { ...s, waits: drop(s.waits, p.tag as string) };
      default:
        return s;
    }
  },
};
