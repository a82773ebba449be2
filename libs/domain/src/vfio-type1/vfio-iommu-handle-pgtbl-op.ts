import type { ErrnoName } from '../../../contracts/src/index.js';
import type { Caller } from '../request-reply.js';
import type { VfioOut } from './common.js';
import type { Container, VfioState } from './state.js';
import { startWalk } from './vfio-iommu-for-each-dev.js';

/**
 * vfio_iommu_handle_pgtbl_op: BIND_PGTBL / UNBIND_PGTBL. The container must have nesting_info and a
 * vfio_mm; then, under iommu->lock and vmm->pasid_lock, every device gets vfio_dev_bind_gpasid_fn
 * or vfio_dev_unbind_gpasid_fn (vfio-dev-*-gpasid-fn.ts), and a failed bind unwinds. The unbind
 * walk's result is never read: UNBIND_PGTBL returns 0 from v2 (DOMAIN.md §7.3).
 */
export function vfioIommuHandlePgtblOp(
  s: VfioState, tag: string, c: Container, vm: string, isBind: boolean, data: object, caller: Caller, fail: (errno: ErrnoName, why: string) => VfioOut[],
): VfioOut[] {
  // nesting_info is set only on the domain path: an external-only container has no BIND_PGTBL;
  // v2/v3 answered the kernel-internal -ENOTSUPP (524) here, bug #14 (DOMAIN.md §7.5)
  if (!c.nesting_info) return fail(s.policy!['vfio.no_nesting_info_errno'], 'no nesting_info: the container has no IOMMU domain (external_domain only)');
  if (!c.vmm) return fail('EINVAL', 'no vfio_mm');
  return startWalk(s, tag, vm, isBind ? 'bind' : 'unbind', data, caller);
}
