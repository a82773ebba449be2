import { ERRNO, PASID_REQUEST_MINSZ, VFIO_IOMMU_FLAG_ALLOC_PASID, VFIO_IOMMU_FLAG_FREE_PASID, type Envelope, type ErrnoName, type PasidRequest } from '../../../contracts/src/index.js';
import { cmd, evt, type Output, type Ret } from '../decider.js';
import { answer, callerOf, park } from './common.js';
import { startWalk } from './nesting-op.js';
import type { AllocWait, VfioState } from './state.js';

const isInt = (x: unknown): x is number => Number.isInteger(x);

/** VFIO_IOMMU_PASID_REQUEST (vfio_iommu_type1_pasid_request + vfio_pasid.c, DOMAIN.md §2.1). */
export function pasidRequest(s: VfioState, input: Envelope): Output[] {
  const { vm, req } = input.payload as { vm: string; req: PasidRequest };
  const caller = callerOf(input);
  const c = s.containers[vm];
  const fail = (errno: ErrnoName, why: string) => [evt('pasid_request.rejected', { vm, errno, why }), answer(caller, { ret: -ERRNO[errno] })];
  if (!c) return fail('ENODEV', 'no container');
  if (!req || typeof req !== 'object' || !isInt(req.argsz) || req.argsz < PASID_REQUEST_MINSZ) return fail('EINVAL', 'argsz < minsz');
  const alloc = req.flags === VFIO_IOMMU_FLAG_ALLOC_PASID;
  const free = req.flags === VFIO_IOMMU_FLAG_FREE_PASID;
  if (!alloc && !free) return fail('EINVAL', 'flags must be exactly one of ALLOC or FREE');
  if (!req.range || !isInt(req.range.min) || !isInt(req.range.max) || req.range.min > req.range.max) return fail('EINVAL', 'range.min > range.max');
  if (!c.vmm) return fail(s.policy!['vfio.no_vmm_errno'], 'no vfio_mm (not nesting, or no IOMMU domain)');
  if (free) {
    // vfio_pasid_free_range: frees every owned PASID in the range under pasid_lock, always 0
    const owned = c.vmm.pasids.filter((x) => x >= req.range.min && x <= req.range.max);
    if (owned.length && s.policy!['vfio.pasid_free_unbinds']) {
      // IOASID notifier -> intel_svm_free_async_fn: unbind (teardown + drain) on every device first
      return startWalk(s, input, vm, 'unbind', { hpasid: owned[0] }, caller, owned);
    }
    return [...freeAll(vm, owned), answer(caller, { ret: 0 })];
  }
  if (c.vmm.pasids.length >= s.policy!['vfio.pasid_quota']) return fail(s.policy!['vfio.pasid_alloc_fail_errno'], 'vfio_mm PASID quota reached');
  const wait: AllocWait = { kind: 'alloc', vm, caller, range: [req.range.min, req.range.max] };
  return [park(input, wait), cmd('host-vtd', 'ioasid_alloc', { set: vm, min: req.range.min, max: req.range.max, tag: input.id })];
}

export function freeAll(vm: string, pasids: number[]): Output[] {
  return pasids.flatMap((pasid) => [evt('pasid.freed', { vm, pasid }), cmd('host-vtd', 'ioasid_free', { set: vm, pasid, noreply: true })]);
}

export function allocReply(s: VfioState, op: AllocWait, r: Ret): Output[] {
  if (r.ret < 0) {
    const errno = s.policy!['vfio.pasid_alloc_fail_errno'];
    return [evt('pasid_request.rejected', { vm: op.vm, errno, why: 'ioasid_alloc: no free PASID in the range (host PASID space)', space: true, range: op.range }), answer(op.caller, { ret: -ERRNO[errno] })];
  }
  return [evt('pasid.allocated', { vm: op.vm, pasid: r.value }), answer(op.caller, { ret: r.value as number })];
}
