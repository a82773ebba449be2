import { cmd } from '../decider.js';
import type { DevFn } from './common.js';
import { hpasidOf } from './state.js';

/**
 * vfio_dev_unbind_gpasid_fn: UNBIND_PGTBL on one device (iommu_uapi_sva_unbind_gpasid with the
 * guest's data), and the unbind of a bind's v1 unwind or of a FREE / teardown (`pasid`: the host
 * PASID). `unwind`: VFIO undoing a failed bind. An error stops the walk and is the ioctl's answer.
 */
export const vfioDevUnbindGpasidFn: DevFn = {
  call: (w, d, dev, tag) =>
    cmd('host-vtd', 'iommu_sva_unbind_gpasid', { vm: w.vm, domain: d.domain, dev, mdev: d.dev, data: w.data, pasid: hpasidOf(w), ...(w.unwinding ? { unwind: true } : {}), tag }),
  ok: (w) => w,
  failed: (_s, _w, ret) => ({ out: [], then: { finish: ret } }),
};
