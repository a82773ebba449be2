import { ERRNO, type EventOf, type GuestViommuEvents, type InputTo } from '../../../contracts/src/index.js';
import { drop, put, type Command, type Decider } from '../decider.js';
import { completeStep, evolveCalls, resumed } from '../request-reply.js';
import { reportedFault } from './iommu-report-device-fault.js';
import { evt, type GuestCall, type GuestViommuState } from './state.js';
import { ioctlBindUnbind, ioctlInvalidate, ioctlPasidRequest, ioctlReturned } from './vmm-ioctl.js';
import { vcmdAllocPasid, vcmdAllocReturned, vcmdFreePasid, vcmdFreeReturned } from './vtd-handle-vcmd.js';
import { pasidCacheSyncBind, pasidCacheSyncReturned, pasidCacheSyncUnbind } from './vtd-pasid-cache-sync.js';
import { piotlbInvalidate, piotlbInvalidateReturned } from './vtd-piotlb-invalidate.js';

export type { GuestPasidEntry } from './uapi.js';
export type { GuestCall, GuestViommuState } from './state.js';

type Out = EventOf<GuestViommuEvents<GuestCall>> | Command;

/** VFIO answered a request the vIOMMU parked a continuation for: the operation that sent it goes on. */
function returned(s: GuestViommuState, input: InputTo<'guest-viommu'> & { type: `${string}.ret` }): Out[] {
  const r = input.payload;
  const c = r.tag === null ? undefined : s.calls[r.tag];
  if (r.tag === null || !c) return [evt('ignored', { why: `reply to unknown request ${r.tag}` })];
  const back = resumed<GuestCall>(r.tag);
  switch (c.op) {
    case 'alloc':
      return [back, ...vcmdAllocReturned(input.id, c, r)];
    case 'free':
      return [back, ...vcmdFreeReturned(c, r)];
    case 'bind':
    case 'unbind':
      return [back, ...pasidCacheSyncReturned(c, r)];
    case 'inval':
      return [back, ...piotlbInvalidateReturned(c, r)];
    case 'ioctl':
      return [back, ...ioctlReturned(c, r)];
  }
}

/** The guest's vIOMMU: routes each input to the QEMU / guest-driver operation it models, and folds the events. */
export const guestViommuDecider: Decider<GuestViommuState, InputTo<'guest-viommu'>, Out> = {
  component: 'guest-viommu',
  initialState: () => ({ vms: {}, calls: {} }),

  decide(s, input): Out[] {
    const type: string = input.type;
    const p = input.payload;
    // every scenario step names a VM the vIOMMU must have realized
    if ('step' in p && !s.vms[p.vm]) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
    switch (input.type) {
      case 'run.open': {
        const vms = input.payload.topology.vms;
        return [evt('viommu.realized', { vms: vms.map((v) => v.id), ram: vms.map((v) => v.ram_pages ?? 4096), faults: vms.map((v) => v.page_requests ?? 'respond'), scalable_mode: true, vccap_pas: true })];
      }
      case 'step.pasid_alloc':
        return vcmdAllocPasid(input);
      case 'step.pasid_free':
        return vcmdFreePasid(input);
      case 'step.bind':
        return pasidCacheSyncBind(input);
      case 'step.unbind':
        return pasidCacheSyncUnbind(s, input);
      case 'step.iotlb_invalidate':
        return piotlbInvalidate(input);
      case 'step.ioctl_pasid_request':
        return ioctlPasidRequest(input);
      case 'step.ioctl_bind':
      case 'step.ioctl_unbind':
        return ioctlBindUnbind(input);
      case 'step.ioctl_invalidate':
        return ioctlInvalidate(input);
      case 'iommu_report_device_fault':
        return reportedFault(s, input);
      case 'iommu_page_response.ret':
        return [evt('page_response.returned', { ret: input.payload.ret })];
      case 'VFIO_IOMMU_PASID_REQUEST.ret':
      case 'VFIO_IOMMU_NESTING_OP.ret':
        return returned(s, input);
      default:
        return [evt('ignored', { why: `guest-viommu has no handler for ${type}` })];
    }
  },

  evolve(s, o): GuestViommuState {
    if (o.kind === 'command') return s;
    const at = (vm: string) => s.vms[vm]!;
    switch (o.type) {
      case 'viommu.realized': {
        const p = o.payload;
        return { ...s, vms: Object.fromEntries(p.vms.map((id, i) => [id, { table: {}, cache: {}, ram: p.ram[i]!, faults: p.faults[i]! }])) };
      }
      case 'pasid_entry.written': {
        const { vm, pasid, entry } = o.payload;
        return { ...s, vms: put(s.vms, vm, { ...at(vm), table: put(at(vm).table, pasid, entry) }) };
      }
      case 'pasid_entry.cleared': {
        const { vm, pasid } = o.payload;
        return { ...s, vms: put(s.vms, vm, { ...at(vm), table: drop(at(vm).table, pasid) }) };
      }
      case 'pasid_cache.filled': {
        const { vm, pasid, entry } = o.payload;
        return { ...s, vms: put(s.vms, vm, { ...at(vm), cache: put(at(vm).cache, pasid, entry) }) };
      }
      case 'pasid_cache.evicted': {
        const { vm, pasid } = o.payload;
        return { ...s, vms: put(s.vms, vm, { ...at(vm), cache: drop(at(vm).cache, pasid) }) };
      }
      case 'call.parked':
      case 'call.resumed':
        return { ...s, calls: evolveCalls(s.calls, o) };
      default:
        return s;
    }
  },
};
