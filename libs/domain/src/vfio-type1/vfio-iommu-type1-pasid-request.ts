import {
  ERRNO, PASID_REQUEST_MINSZ, VFIO_IOMMU_FLAG_ALLOC_PASID, VFIO_IOMMU_FLAG_FREE_PASID, VFIO_IOMMU_PASID_BITS, type ErrnoName, type Reply,
} from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { answer, callerOf, parked } from '../request-reply.js';
import { evt, freePasids, type VfioIn, type VfioOut } from './common.js';
import { primaryContainer, vmmOf, type AllocWait, type VfioState } from './state.js';
import { startWalk } from './vfio-iommu-for-each-dev.js';

const isInt = (x: unknown): x is number => Number.isInteger(x);

/**
 * struct vfio_iommu_type1_pasid_request as copy_from_user reads it from the VMM: argsz, flags and
 * range {min, max}. Untrusted: any field may be missing or of any type; null when it is no struct.
 */
function pasidRequestArg(req: unknown): { argsz: unknown; flags: unknown; range: { min: unknown; max: unknown } | null } | null {
  if (typeof req !== 'object' || req === null) return null;
  const range = 'range' in req ? req.range : undefined;
  return {
    argsz: 'argsz' in req ? req.argsz : undefined,
    flags: 'flags' in req ? req.flags : undefined,
    range: typeof range === 'object' && range !== null ? { min: 'min' in range ? range.min : undefined, max: 'max' in range ? range.max : undefined } : null,
  };
}

/** VFIO_IOMMU_PASID_REQUEST (vfio_iommu_type1_pasid_request + vfio_pasid.c, DOMAIN.md §2.1). */
export function vfioIommuType1PasidRequest(s: VfioState, input: VfioIn<'VFIO_IOMMU_PASID_REQUEST'>): VfioOut[] {
  const { vm } = input.payload;
  const req = pasidRequestArg(input.payload.req);
  const caller = callerOf(input);
  // QEMU issues it on a container of the VM; the vfio_mm is the mm's, the same through each
  const c = primaryContainer(s, vm);
  const fail = (errno: ErrnoName, why: string) => [evt('pasid_request.rejected', { vm, errno, why }), ...answer(caller, { ret: -ERRNO[errno] })];
  if (!c) return fail('ENODEV', 'no container');
  if (!req || !isInt(req.argsz) || req.argsz < PASID_REQUEST_MINSZ) return fail('EINVAL', 'argsz < minsz');
  const alloc = req.flags === VFIO_IOMMU_FLAG_ALLOC_PASID;
  const free = req.flags === VFIO_IOMMU_FLAG_FREE_PASID;
  if (!alloc && !free) return fail('EINVAL', 'flags must be exactly one of ALLOC or FREE');
  const min = req.range?.min, max = req.range?.max;
  if (!isInt(min) || !isInt(max) || min > max) return fail('EINVAL', 'range.min > range.max');
  // v7 07/16: the PASID comes back in a signed int, so min and max may not exceed 1 << 31 (the kernel's
  // own comparison: 1 << 31 itself passes) (DOMAIN.md §7.5)
  if (s.policy!['vfio.pasid_request_31bit'] && (min > 2 ** VFIO_IOMMU_PASID_BITS || max > 2 ** VFIO_IOMMU_PASID_BITS)) {
    return fail('EINVAL', 'range.min or range.max > (1 << VFIO_IOMMU_PASID_BITS)');
  }
  // v2/v3 answered the kernel-internal -ENOTSUPP (524) here, v4+ -EOPNOTSUPP (bug #14, DOMAIN.md §7.5)
  // the vfio_mm is the mm's: whichever container holds it (one with an IOMMU domain is the primary)
  const vmm = vmmOf(s, vm);
  if (!vmm) return fail(s.policy!['vfio.no_vmm_errno'], 'no vfio_mm (not nesting, or no IOMMU domain)');
  if (free) {
    // vfio_pasid_free_range: frees every owned PASID in the range under pasid_lock, always 0
    const owned = vmm.filter((x) => x >= min && x <= max);
    if (owned.length && s.policy!['vfio.pasid_free_unbinds']) {
      // IOASID notifier -> intel_svm_free_async_fn: unbind (teardown + drain) on every device first
      return startWalk(s, input.id, vm, 'unbind', { hpasid: owned[0] }, caller, owned);
    }
    return [...freePasids(vm, owned), ...answer(caller, { ret: 0 })];
  }
  if (vmm.length >= s.policy!['vfio.pasid_quota']) return fail(s.policy!['vfio.pasid_alloc_fail_errno'], 'vfio_mm PASID quota reached');
  const wait: AllocWait = { kind: 'alloc', vm, caller, range: [min, max] };
  return [parked(input.id, wait), cmd('host-vtd', 'ioasid_alloc', { set: vm, min, max, tag: input.id })];
}

/** ioasid_alloc answered: the PASID joins the VM's vfio_mm, or the host's PASID space had none left in the range. */
export function allocReply(s: VfioState, op: AllocWait, r: Reply): VfioOut[] {
  // a success without a PASID is not something the host answers; it would fail as an exhausted space does
  if (r.ret < 0 || !isInt(r.value)) {
    const errno = s.policy!['vfio.pasid_alloc_fail_errno'];
    return [evt('pasid_request.rejected', { vm: op.vm, errno, why: 'ioasid_alloc: no free PASID in the range (host PASID space)', space: true, range: op.range }), ...answer(op.caller, { ret: -ERRNO[errno] })];
  }
  return [evt('pasid.allocated', { vm: op.vm, pasid: r.value }), ...answer(op.caller, { ret: r.value })];
}
