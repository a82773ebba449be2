import type { ErrnoName } from '../../../contracts/src/index.js';
import type { Caller } from '../request-reply.js';
import type { VfioOut } from './common.js';
import type { Container, VfioState } from './state.js';
import { startWalk } from './vfio-iommu-for-each-dev.js';

/**
 * vfio_iommu_type1_cache_invalidate: CACHE_INVLD. The container must have nesting_info; then every
 * device gets vfio_dev_cache_invalidate_fn (vfio-dev-cache-invalidate-fn.ts: which errors stop the walk).
 */
export function vfioIommuType1CacheInvalidate(
  s: VfioState, tag: string, c: Container, vm: string, data: object, caller: Caller, fail: (errno: ErrnoName, why: string) => VfioOut[],
): VfioOut[] {
  // nesting_info is set only on the domain path: an external-only container has no CACHE_INVLD;
  // v3 10/14 answered the kernel-internal -ENOTSUPP (524) here, as handle_pgtbl_op did (DOMAIN.md §7.5)
  if (!c.nesting_info) return fail(s.policy!['vfio.no_nesting_info_errno'], 'no nesting_info: the container has no IOMMU domain (external_domain only)');
  return startWalk(s, tag, vm, 'inval', data, caller);
}
