import { cmd } from '../decider.js';
import { evt, type DevFn } from './common.js';
import { hpasidOf } from './state.js';

/**
 * vfio_dev_bind_gpasid_fn: BIND_PGTBL on one device, iommu_uapi_sva_bind_gpasid(domain, iommu_device,
 * data). A failure undoes the binds (DOMAIN.md §2.2.4, bug #2): v1 walks every device again with
 * vfio_dev_unbind_gpasid_fn (stopping at the first error, tearing down a binding an earlier call
 * made); later versions unbind exactly the devices this call bound.
 */
export const vfioDevBindGpasidFn: DevFn = {
  call: (w, d, dev, tag) => cmd('host-vtd', 'iommu_sva_bind_gpasid', { vm: w.vm, domain: d.domain, dev, mdev: d.dev, data: w.data, tag }),
  ok: (w, d) => ({ ...w, bound: [...w.bound, { domain: d.domain, dev: w.iommuDevice ?? null, mdev: d.dev }] }),
  failed(s, w, ret) {
    if (s.policy!['vfio.bind_unwind'] === 'for_each_dev') {
      // v1: "Undo all binds that already succeeded" by walking every device again (and stopping at the first error)
      return { out: [evt('bind.unwind', { vm: w.vm, how: 'for_each_dev', devices: w.devs.map((d) => d.dev) })], then: { unwind: ret } };
    }
    // unbind exactly the devices this call bound (unbind never fails, so nothing is awaited)
    const undo = w.bound.map((b) => cmd('host-vtd', 'iommu_sva_unbind_gpasid', { vm: w.vm, domain: b.domain, dev: b.dev, mdev: b.mdev, pasid: hpasidOf(w), noreply: true, unwind: true }));
    return { out: [evt('bind.unwind', { vm: w.vm, how: 'bound_only', devices: w.bound.map((b) => b.mdev) }), ...undo], then: { finish: ret } };
  },
};
