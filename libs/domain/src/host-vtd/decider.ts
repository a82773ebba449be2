import { ERRNO, type InputTo } from '../../../contracts/src/index.js';
import { drop, put, type Decider } from '../decider.js';
import { evolveCalls, reply } from '../request-reply.js';
import { evolveCaches } from './caches.js';
import { dmaRequest, dmaRequestBurst } from './dma-walk.js';
import { clearPte, writePte } from './guest-memory.js';
import { intelIommuAttachDevice, intelIommuAuxDetachDevice } from './intel-iommu-aux-attach-device.js';
import { intelIommuDomainAlloc, intelIommuDomainFree } from './intel-iommu-domain-alloc.js';
import { intelIommuSvaInvalidate } from './intel-iommu-sva-invalidate.js';
import { intelSvmBindGpasid } from './intel-svm-bind-gpasid.js';
import { intelSvmUnbindGpasid } from './intel-svm-unbind-gpasid.js';
import { ioasidAlloc, ioasidFree } from './ioasid.js';
import { hostConfigure, pciSurpriseRemoval } from './platform.js';
import { intelSvmPageResponse } from './intel-svm-page-response.js';
import { pageRequest, prqIrq } from './prq.js';
import { prqFull } from './prq-overflow.js';
import { devtlbDone } from './qi.js';
import { evt, faultKey, memKey, type HostOut, type HostVtdState, type PasidEntry } from './state.js';

/**
 * The host VT-d driver and hardware (intel-iommu, intel-svm, the QI and the PRQ). `decide` routes each
 * input to the file of the kernel operation it models; `evolve` folds the events into the state.
 */
export const hostVtdDecider: Decider<HostVtdState, InputTo<'host-vtd'>, HostOut> = {
  component: 'host-vtd',
  initialState: () => ({
    devices: {}, absent: {}, vms: {}, pasidMax: 0x100000, ioasid: {}, domains: {}, nextDomain: 1, nextDid: 2, svm: {}, pasidTable: {},
    pasidCache: {}, iotlb: {}, mem: {}, prq: [], pro: false, prqFull: {}, proPasses: 0, dmarSuppressed: 0, pendingFaults: {}, calls: {}, oops: null, hung: null,
  }),

  decide(s, input): HostOut[] {
    if (input.type === 'run.open') return hostConfigure(input);
    // a dead machine answers nothing usefully: every caller sees the oops; a hung one answers nothing
    if (s.oops) return reply(input, { ret: -ERRNO.EIO, oops: s.oops.fn });
    if (s.hung) return [evt('ignored', { why: `CPU stuck in qi_submit_sync (ITE on ${s.hung.rid})` })];
    switch (input.type) {
      case 'ioasid_alloc':
        return ioasidAlloc(s, input);
      case 'ioasid_free':
        return ioasidFree(s, input);
      case 'iommu_domain_alloc':
        return intelIommuDomainAlloc(s, input);
      case 'iommu_domain_free':
        return intelIommuDomainFree(s, input);
      case 'iommu_aux_attach_device':
      case 'iommu_attach_device':
        return intelIommuAttachDevice(s, input);
      case 'iommu_aux_detach_device':
        return intelIommuAuxDetachDevice(s, input);
      case 'iommu_sva_bind_gpasid':
        return intelSvmBindGpasid(s, input);
      case 'iommu_sva_unbind_gpasid':
        return intelSvmUnbindGpasid(s, input);
      case 'iommu_cache_invalidate':
        return intelIommuSvaInvalidate(s, input);
      case 'ats_translate':
      case 'dma_request':
        return dmaRequest(s, input);
      case 'devtlb_invalidate.ret':
        return devtlbDone(s, input);
      case 'page_request':
        return pageRequest(s, input);
      case 'iommu_page_response':
        return intelSvmPageResponse(s, input);
      case 'step.prq_irq':
        return prqIrq(s, input);
      case 'pci_surprise_removal':
        return pciSurpriseRemoval(input);
      case 'prq_full':
        return prqFull(input);
      case 'dma_request_burst':
        return dmaRequestBurst(s, input);
      case 'mem.write_pte':
      case 'step.guest_map':
        return writePte(s, input);
      case 'step.guest_unmap':
        return clearPte(s, input);
      default: {
        // every type of the host's input map is handled above; a sender may still send another
        const other: { type: string } = input;
        return [evt('ignored', { why: `host-vtd has no handler for ${other.type}` })];
      }
    }
  },

  evolve(s, o): HostVtdState {
    if (o.kind === 'command') return s;
    const cached = evolveCaches(s, o);
    if (cached) return cached;
    switch (o.type) {
      case 'host.configured': {
        const { host, devices, vms, pasidMax, policy } = o.payload;
        return { ...s, host, devices, vms, pasidMax, policy };
      }
      case 'oops':
        return { ...s, oops: { fn: o.payload.fn } };
      case 'qi.hung':
        return { ...s, hung: { rid: o.payload.rid } };
      case 'device.absent':
        return { ...s, absent: put(s.absent, o.payload.rid, true as const) };
      case 'ioasid.allocated':
        return { ...s, ioasid: put(s.ioasid, o.payload.pasid, { set: o.payload.set }) };
      case 'ioasid.freed':
        return { ...s, ioasid: drop(s.ioasid, o.payload.pasid) };
      case 'domain.allocated': {
        const p = o.payload;
        return { ...s, nextDomain: s.nextDomain + 1, nextDid: s.nextDid + 1, domains: put(s.domains, p.domain, { vm: p.vm, nesting: p.nesting, did: p.did, devs: {} }) };
      }
      case 'domain.freed':
        return { ...s, domains: drop(s.domains, o.payload.domain) };
      case 'aux.attached': {
        const p = o.payload;
        const d = s.domains[p.domain]!;
        const prev = d.devs[p.dev];
        const devs = put(d.devs, p.dev, { mdevs: [...(prev?.mdevs ?? []), p.mdev], defaultPasid: prev?.defaultPasid ?? p.defaultPasid });
        return { ...s, domains: put(s.domains, p.domain, { ...d, devs }) };
      }
      case 'aux.detached': {
        const p = o.payload;
        const d = s.domains[p.domain]!;
        const mdevs = d.devs[p.dev]!.mdevs.filter((m) => m !== p.mdev);
        const devs = mdevs.length ? put(d.devs, p.dev, { ...d.devs[p.dev]!, mdevs }) : drop(d.devs, p.dev);
        return { ...s, domains: put(s.domains, p.domain, { ...d, devs }) };
      }
      case 'pasid_entry.set': {
        const p = o.payload;
        return { ...s, pasidTable: put(s.pasidTable, p.dev, put(s.pasidTable[p.dev] ?? {}, p.pasid, p.entry)) };
      }
      case 'pasid_entry.cleared': {
        const p = o.payload;
        const old = s.pasidTable[p.dev]?.[p.pasid];
        const cleared: PasidEntry = { p: false, fpd: !!p.fpd, pgtt: 0, flptr: 0, did: old?.did ?? 0, aw: 0 };
        return { ...s, pasidTable: put(s.pasidTable, p.dev, put(s.pasidTable[p.dev] ?? {}, p.pasid, cleared)) };
      }
      case 'svm.bound': {
        const p = o.payload;
        const svm = s.svm[p.hpasid] ?? { gpasid: p.gpasid, vm: p.vm, guestMode: true, devs: {} };
        return { ...s, svm: put(s.svm, p.hpasid, { ...svm, devs: put(svm.devs, p.dev, { sid: p.sid, users: 1, domain: p.domain }) }) };
      }
      case 'svm.users_inc':
      case 'svm.users_dec': {
        const p = o.payload;
        const svm = s.svm[p.hpasid]!;
        return { ...s, svm: put(s.svm, p.hpasid, { ...svm, devs: put(svm.devs, p.dev, { ...svm.devs[p.dev]!, users: p.users }) }) };
      }
      case 'svm.sdev_unlinked': {
        const p = o.payload;
        const svm = s.svm[p.hpasid];
        if (!svm?.devs[p.dev]) return s;
        return { ...s, svm: put(s.svm, p.hpasid, { ...svm, devs: put(svm.devs, p.dev, { ...svm.devs[p.dev]!, unlinked: true }) }) };
      }
      case 'svm.unbound': {
        const p = o.payload;
        const svm = s.svm[p.hpasid];
        if (!svm) return s;
        const devs = drop(svm.devs, p.dev);
        return { ...s, svm: Object.keys(devs).length ? put(s.svm, p.hpasid, { ...svm, devs }) : drop(s.svm, p.hpasid) };
      }
      case 'mem.pte_written': {
        const p = o.payload;
        const k = memKey(p.vm, p.table);
        const t = { ...(s.mem[k] ?? {}) };
        for (let i = 0; i < p.pages; i++) t[p.page + i] = { gpa: p.gpa + i, w: p.w };
        return { ...s, mem: put(s.mem, k, t) };
      }
      case 'mem.pte_cleared': {
        const p = o.payload;
        const k = memKey(p.vm, p.table);
        const t = { ...(s.mem[k] ?? {}) };
        for (let i = 0; i < p.pages; i++) delete t[p.page + i];
        return { ...s, mem: put(s.mem, k, t) };
      }
      case 'prq.queued':
        return { ...s, prq: [...s.prq, o.payload.req] };
      case 'prq.pass_done':
        return { ...s, prq: [] };
      case 'prq.full': {
        const p = o.payload;
        return { ...s, prqFull: put(s.prqFull, p.rid, (s.prqFull[p.rid] ?? 0) + p.count), proPasses: 0 };
      }
      case 'prq.overflow': {
        const p = o.payload;
        const left = (s.prqFull[p.rid] ?? 0) - 1;
        if (!p.consumed) return { ...s, pro: true };
        return { ...s, pro: true, prqFull: left > 0 ? put(s.prqFull, p.rid, left) : drop(s.prqFull, p.rid) };
      }
      case 'prq.pro_cleared':
        return { ...s, pro: false, proPasses: s.proPasses + 1 };
      case 'dmar_fault.handled':
        return { ...s, dmarSuppressed: o.payload.suppressed };
      case 'page_request.reported': {
        // iommu_report_device_fault queues only a LAST_PAGE fault for iommu_page_response (DOMAIN.md §7.12)
        const p = o.payload;
        if (!p.needsResponse) return s;
        return { ...s, pendingFaults: put(s.pendingFaults, faultKey(p.rid, p.pasid, p.prg), { vm: p.vm }) };
      }
      case 'fault.responded':
      case 'fault.discarded':
        return { ...s, pendingFaults: drop(s.pendingFaults, faultKey(o.payload.rid, o.payload.pasid, o.payload.prg)) };
      case 'call.parked':
      case 'call.resumed':
        return { ...s, calls: evolveCalls(s.calls, o) };
      default:
        return s;
    }
  },
};
