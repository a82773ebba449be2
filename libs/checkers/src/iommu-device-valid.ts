import type { Checker, TypedEntry, Violation } from './types.js';

/** The IOMMU layer's entry points that take a device: an input of the host with one, or null. */
function entryPoint(e: TypedEntry) {
  if (e.kind !== 'input' || e.component !== 'host-vtd') return null;
  switch (e.type) {
    case 'iommu_sva_bind_gpasid':
    case 'iommu_sva_unbind_gpasid':
    case 'iommu_cache_invalidate':
    case 'iommu_aux_attach_device':
      return e;
    default:
      return null;
  }
}

/**
 * Every device handed to the IOMMU layer is IOMMU-backed and belongs to the domain (bugs #1, #18).
 * IOMMU-backed devices are the physical parents the host probed; membership comes from aux attaches.
 */
export const iommuDeviceValid: Checker = {
  name: 'iommu-device-valid',
  check(h) {
    const out: Violation[] = [];
    const configured = h.events('host-vtd', 'host.configured')[0];
    const capable = new Set(Object.keys(configured?.payload.devices ?? {}));
    const members = new Map<number, Set<string>>();
    for (const e of h.entries) {
      if (e.kind === 'event' && e.component === 'host-vtd' && e.type === 'aux.attached') {
        const p = e.payload;
        members.set(p.domain, (members.get(p.domain) ?? new Set()).add(p.dev));
        continue;
      }
      const call = entryPoint(e);
      if (!call) continue;
      const p = call.payload.payload;
      const sender = h.senderOf(e);
      const cite = [e.seq, ...(sender ? [sender.seq] : [])].sort((a, b) => a - b);
      const what = `${call.type}(domain ${p.domain}, dev ${p.dev === null ? 'NULL' : p.dev})${p.mdev ? ` for mdev ${p.mdev}` : ''}${p.vm ? ` of VM ${p.vm}` : ''}`;
      if (p.dev === null) {
        out.push({ invariant: 'iommu-device-valid', message: `${what}: a NULL device reached the IOMMU layer (vfio_mdev_get_iommu_device returned NULL)`, events: cite });
      } else if (!capable.has(p.dev)) {
        out.push({ invariant: 'iommu-device-valid', message: `${what}: ${p.dev} is not an IOMMU-backed device`, events: cite });
      } else if (call.type !== 'iommu_aux_attach_device' && !members.get(p.domain)?.has(p.dev)) {
        out.push({ invariant: 'iommu-device-valid', message: `${what}: ${p.dev} is not attached to domain ${p.domain}`, events: cite });
      }
    }
    // an odd or mixed mdev group silently demoted to external_domain: IOMMU-backed devices with no IOMMU domain (bug #18)
    for (const e of h.events('vfio-type1', 'group.attached')) {
      const p = e.payload;
      if (p.where !== 'external_domain') continue;
      const backed = p.iommuDevices.filter((d) => d !== null);
      if (backed.length) {
        out.push({ invariant: 'iommu-device-valid', message: `group ${p.group} of VM ${p.vm} (${p.why}) holds IOMMU-backed ${[...new Set(backed)].join(', ')} yet was attached to external_domain with no IOMMU domain: attach should fail loudly`, events: h.chain(e) });
      }
    }
    return out;
  },
};
