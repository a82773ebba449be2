import { cmd } from '../decider.js';
import type { DevFn } from './common.js';
import { hpasidOf } from './state.js';

/**
 * vfio_dev_unbind_gpasid_fn: UNBIND_PGTBL on one device (iommu_uapi_sva_unbind_gpasid with the
 * guest's data), and the unbind of a failed bind's unwind or of a FREE / teardown (`pasid`: the host
 * PASID). `unwind`: VFIO undoing a failed bind. What an error does ('vfio.bind_unwind', DOMAIN.md §7.3):
 * v1 returns the IOMMU's error, which stops the walk and is the ioctl's answer; v2+ ignore it and
 * return 0, so the walk reaches every device and UNBIND_PGTBL returns 0; a NULL IOMMU device makes the
 * function return -EINVAL (v3+), which stops iommu_group_for_each_dev, and handle_pgtbl_op still
 * returns 0 (it never reads the unbind walk's result).
 */
export const vfioDevUnbindGpasidFn: DevFn = {
  call: (w, d, dev, tag) =>
    cmd('host-vtd', 'iommu_sva_unbind_gpasid', { vm: w.vm, domain: d.domain, dev, mdev: d.dev, data: w.data, pasid: hpasidOf(w), ...(w.unwinding ? { unwind: true } : {}), tag }),
  ok: (w) => w,
  failed(s, w, ret, nullDevice) {
    if (s.policy!['vfio.bind_unwind'] === 'for_each_dev') return { out: [], then: { finish: ret } };
    return { out: [], then: nullDevice ? { finish: 0 } : { next: w } };
  },
};
