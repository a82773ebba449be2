import { PASID_REQUEST_MINSZ, VFIO_IOMMU_FLAG_ALLOC_PASID, VFIO_IOMMU_FLAG_FREE_PASID, type InputTo, type Reply } from '../../../contracts/src/index.js';
import { cmd, type Command } from '../decider.js';
import { completeStep, parked } from '../request-reply.js';
import { PASID_MAX } from '../topology.js';
import { completeWith, evt, type GuestCall } from './state.js';

/**
 * QEMU's virtual command interface (vtd_handle_vcmd_write: vtd_request_pasid_alloc / _free): the guest
 * writes VCMD ALLOC_PASID or FREE_PASID, QEMU asks the host allocator through the container
 * (VFIO_IOMMU_PASID_REQUEST) and answers in VCRSP.
 */
export const pasidRequest = (vm: string, req: { argsz: number; flags: number; range: { min: number; max: number } }, tag: string): Command =>
  cmd('vfio-type1', 'VFIO_IOMMU_PASID_REQUEST', { vm, req, tag });

export function vcmdAllocPasid(input: InputTo<'guest-viommu'> & { type: 'step.pasid_alloc' }) {
  const p = input.payload;
  const range = { min: p.min ?? 1, max: p.max ?? PASID_MAX - 1 };
  return [
    parked<GuestCall>(input.id, { step: p.step, op: 'alloc', vm: p.vm, left: (p.count ?? 1) - 1, range }),
    pasidRequest(p.vm, { argsz: PASID_REQUEST_MINSZ, flags: VFIO_IOMMU_FLAG_ALLOC_PASID, range }, input.id),
  ];
}

export function vcmdFreePasid(input: InputTo<'guest-viommu'> & { type: 'step.pasid_free' }) {
  const p = input.payload;
  return [
    parked<GuestCall>(input.id, { step: p.step, op: 'free', vm: p.vm, pasid: p.pasid }),
    pasidRequest(p.vm, { argsz: PASID_REQUEST_MINSZ, flags: VFIO_IOMMU_FLAG_FREE_PASID, range: { min: p.pasid, max: p.pasid } }, input.id),
  ];
}

/** ALLOC_PASID's reply: VCRSP RSLT(pasid) on success, SC(NO_AVAILABLE_PASID) on failure; the next one if the step asked for more. */
export function vcmdAllocReturned(id: string, c: GuestCall & { op: 'alloc' }, r: Reply) {
  const rsp = evt('vcmd.response', { vm: c.vm, status: r.ret >= 0 ? 'VCRSP_RSLT' : 'SC_NO_AVAILABLE_PASID', pasid: r.ret >= 0 ? r.ret : null });
  if (r.ret >= 0 && c.left) {
    return [rsp, parked<GuestCall>(id, { ...c, left: c.left - 1 }), pasidRequest(c.vm, { argsz: PASID_REQUEST_MINSZ, flags: VFIO_IOMMU_FLAG_ALLOC_PASID, range: c.range }, id)];
  }
  return [rsp, completeStep(c.step, r.ret >= 0 ? { ret: 0, value: r.ret } : { ret: r.ret })];
}

/** FREE_PASID's reply: no wait descriptor, the step completes. */
export const vcmdFreeReturned = (c: GuestCall & { op: 'free' }, r: Reply) => [completeWith(c.step, r)];
