import { cmd } from '../decider.js';
import { evt, type DevFn } from './common.js';
import { hpasidOf } from './state.js';

/**
 * vfio_dev_bind_gpasid_fn: BIND_PGTBL on one device, iommu_uapi_sva_bind_gpasid(domain, iommu_device,
 * data). A failure undoes ('vfio.bind_unwind', DOMAIN.md §7.3, bug #2): v1 to v8 walk every device
 * again with vfio_dev_unbind_gpasid_fn (v1 stopping at the first error, v2-v8 going on past the
 * IOMMU's), which also unbinds a device this call never bound, e.g. the binding of an earlier call
 * whose -EBUSY failed this one; the iommufd successor (mainline) undoes exactly what this call bound.
 */
export const vfioDevBindGpasidFn: DevFn = {
  call: (w, d, dev, tag) => cmd('host-vtd', 'iommu_sva_bind_gpasid', { vm: w.vm, domain: d.domain, dev, mdev: d.dev, data: w.data, tag }),
  ok: (w, d) => ({ ...w, bound: [...w.bound, { domain: d.domain, dev: w.iommuDevice ?? null, mdev: d.dev }] }),
  failed(s, w, ret) {
    const how = s.policy!['vfio.bind_unwind'];
    if (how !== 'bound_only') {
      // handle_pgtbl_op: "if (ret || !is_bind)" unbind on every device of the group, the one that failed included
      return { out: [evt('bind.unwind', { vm: w.vm, how, devices: w.devs.map((d) => d.dev) })], then: { unwind: ret } };
    }
    // unbind exactly the devices this call bound (unbind never fails, so nothing is awaited)
    const undo = w.bound.map((b) => cmd('host-vtd', 'iommu_sva_unbind_gpasid', { vm: w.vm, domain: b.domain, dev: b.dev, mdev: b.mdev, pasid: hpasidOf(w), noreply: true, unwind: true }));
    return { out: [evt('bind.unwind', { vm: w.vm, how, devices: w.bound.map((b) => b.mdev) }), ...undo], then: { finish: ret } };
  },
};
