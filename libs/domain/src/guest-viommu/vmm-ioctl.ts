import {
  IOMMU_INV_GRANU_ADDR, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, type InputTo, type Reply,
} from '../../../contracts/src/index.js';
import { completeStep, parked } from '../request-reply.js';
import { evt, waitDone, type GuestCall } from './state.js';
import { rawBind, rawInfo } from './uapi.js';
import { pasidRequest } from './vtd-handle-vcmd.js';
import { nestingOp } from './vtd-pasid-cache-sync.js';

/**
 * The VMM's own ioctls on the container, every argument as it wrote it (untrusted: a compromised or
 * buggy QEMU): VFIO_IOMMU_PASID_REQUEST and VFIO_IOMMU_NESTING_OP with raw data.
 */
type In<T extends string> = InputTo<'guest-viommu'> & { type: T };

export function ioctlPasidRequest(input: In<'step.ioctl_pasid_request'>) {
  const p = input.payload;
  return [parked<GuestCall>(input.id, { step: p.step, op: 'ioctl', vm: p.vm }), pasidRequest(p.vm, { argsz: p.argsz, flags: p.flags, range: { min: p.min, max: p.max } }, input.id)];
}

export function ioctlBindUnbind(input: In<'step.ioctl_bind' | 'step.ioctl_unbind'>) {
  const p = input.payload;
  const flags = input.type === 'step.ioctl_bind' ? VFIO_IOMMU_NESTING_OP_BIND_PGTBL : VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL;
  return [parked<GuestCall>(input.id, { step: p.step, op: 'ioctl', vm: p.vm, pasid: p.hpasid }), nestingOp(p.vm, flags, rawBind(p), input.id, p.op_argsz)];
}

export function ioctlInvalidate(input: In<'step.ioctl_invalidate'>) {
  const p = input.payload;
  const scope = p.granularity === IOMMU_INV_GRANU_ADDR
    ? { granularity: 'addr', addr: p.addr, pages: Math.max(1, Math.ceil((p.granule_size * p.nb_granules) / 4096)), cache: p.cache }
    : { granularity: p.granularity === 1 ? 'pasid' : 'other', addr: 0, pages: 0, cache: p.cache };
  return [parked<GuestCall>(input.id, { step: p.step, op: 'ioctl', vm: p.vm, pasid: p.pasid, scope }), nestingOp(p.vm, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, rawInfo(p), input.id, p.op_argsz)];
}

/** The ioctl returned: what it returned, the wait descriptor of an invalidation, and the step's outcome (a positive ret is a value). */
export function ioctlReturned(c: GuestCall & { op: 'ioctl' }, r: Reply) {
  return [
    evt('ioctl.returned', { vm: c.vm, ret: r.ret }),
    ...(c.scope ? [waitDone(c, r)] : []),
    completeStep(c.step, r.oops ? r : r.ret > 0 ? { ret: 0, value: r.ret } : { ret: r.ret, ...(r.detail ? { detail: r.detail } : {}) }),
  ];
}
