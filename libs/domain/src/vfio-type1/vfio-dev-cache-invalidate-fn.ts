import { cmd } from '../decider.js';
import type { DevFn } from './common.js';

/**
 * vfio_dev_cache_invalidate_fn: CACHE_INVLD on one device, iommu_uapi_cache_invalidate(domain,
 * iommu_device, info). v1 stops the walk at the first error and returns it; v2+ ignore per-device
 * errors, go on and return 0 (bug #3); `report` (iommufd's entry_num) tells the caller how many
 * devices the invalidation reached.
 */
export const vfioDevCacheInvalidateFn: DevFn = {
  call: (w, d, dev, tag) => cmd('host-vtd', 'iommu_cache_invalidate', { vm: w.vm, domain: d.domain, dev, mdev: d.dev, info: w.data, tag }),
  ok: (w) => w,
  failed(s, w, ret) {
    const walk = w.firstErr ? w : { ...w, firstErr: ret };
    if (s.policy!['vfio.cache_invld_errors'] === 'ignore') return { out: [], then: { next: walk } };
    return { out: [], then: { finish: ret } };
  },
  summary: (s, w) => ({ entry_num: w.done, reported: s.policy!['vfio.cache_invld_errors'] === 'report' }),
};
