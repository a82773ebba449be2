import { cmd } from '../decider.js';
import type { DevFn } from './common.js';

/**
 * vfio_dev_cache_invalidate_fn: CACHE_INVLD on one device, iommu_uapi_cache_invalidate(domain,
 * iommu_device, info). v1 stops the walk at the first error and returns it; v2+ ignore the IOMMU
 * call's errors, go on and return 0 (bug #3), but a NULL IOMMU device makes the function itself return
 * -EINVAL, which stops iommu_group_for_each_dev there, and the ioctl still returns 0 (v7 12/16,
 * DOMAIN.md §7.4); `report` (iommufd's entry_num) tells the caller how many devices it reached.
 */
export const vfioDevCacheInvalidateFn: DevFn = {
  call: (w, d, dev, tag) => cmd('host-vtd', 'iommu_cache_invalidate', { vm: w.vm, domain: d.domain, dev, mdev: d.dev, info: w.data, tag }),
  ok: (w) => w,
  failed(s, w, ret, nullDevice) {
    const walk = w.firstErr ? w : { ...w, firstErr: ret };
    if (s.policy!['vfio.cache_invld_errors'] === 'ignore') return { out: [], then: nullDevice ? { finish: 0 } : { next: walk } };
    return { out: [], then: { finish: ret } };
  },
  summary: (s, w) => ({ entry_num: w.done, reported: s.policy!['vfio.cache_invld_errors'] === 'report' }),
};
