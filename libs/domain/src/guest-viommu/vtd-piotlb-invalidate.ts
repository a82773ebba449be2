import { IOMMU_CACHE_INV_TYPE_IOTLB, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, type InputTo, type Reply } from '../../../contracts/src/index.js';
import { parked } from '../request-reply.js';
import { completeWith, waitDone, type GuestCall } from './state.js';
import { piotlbInfo } from './uapi.js';
import { nestingOp } from './vtd-pasid-cache-sync.js';

/**
 * The guest's PASID-based IOTLB invalidation (descriptor type 6) and its wait descriptor: QEMU traps
 * it (vtd_process_piotlb_desc) and passes it on to the host (NESTING_OP CACHE_INVLD).
 */
export function piotlbInvalidate(input: InputTo<'guest-viommu'> & { type: 'step.iotlb_invalidate' }) {
  const p = input.payload;
  // QEMU passes the IOTLB type on: the host's driver flushes the device TLB with it when ATS is on
  const scope = { granularity: p.granularity, addr: p.addr, pages: p.pages, cache: IOMMU_CACHE_INV_TYPE_IOTLB };
  return [
    parked<GuestCall>(input.id, { step: p.step, op: 'inval', vm: p.vm, pasid: p.pasid, scope }),
    nestingOp(p.vm, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, piotlbInfo(p.pasid, scope.granularity, scope.addr, scope.pages), input.id),
  ];
}

/** CACHE_INVLD returned: the wait descriptor completes (done, or the failure QEMU reports). */
export const piotlbInvalidateReturned = (c: GuestCall & { op: 'inval' }, r: Reply) => [waitDone(c, r), completeWith(c.step, r)];
