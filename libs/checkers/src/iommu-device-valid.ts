import type { Envelope } from '../../contracts/src/index.js';
import type { Checker, Violation } from './types.js';

const ENTRY_POINTS = ['iommu_sva_bind_gpasid', 'iommu_sva_unbind_gpasid', 'iommu_cache_invalidate', 'iommu_aux_attach_device'] as const;

/**
 * Every device handed to the IOMMU layer is IOMMU-backed and belongs to the domain (bugs #1, #18).
 * IOMMU-backed devices are the physical parents the host probed; membership comes from aux attaches.
 */
export const iommuDeviceValid: Checker = {
  name: 'iommu-device-valid',
  check(h) {
    const out: Violation[] = [];
    const configured = h.events('host-vtd', 'host.configured')[0];
    const capable = new Set(Object.keys((configured?.payload as { devices?: object })?.devices ?? {}));
    const members = new Map<number, Set<string>>();
    for (const e of h.entries) {
      if (e.kind === 'event' && e.component === 'host-vtd' && e.type === 'aux.attached') {
        const p = e.payload as { domain: number; dev: string };
        members.set(p.domain, (members.get(p.domain) ?? new Set()).add(p.dev));
        continue;
      }
      if (e.kind !== 'input' || e.component !== 'host-vtd' || !(ENTRY_POINTS as readonly string[]).includes(e.type)) continue;
      const p = (e.payload as Envelope).payload as { dev: string | null; domain: number; mdev?: string; vm?: string };
      const sender = h.senderOf(e);
      const cite = [e.seq, ...(sender ? [sender.seq] : [])].sort((a, b) => a - b);
      const what = `${e.type}(domain ${p.domain}, dev ${p.dev === null ? 'NULL' : p.dev})${p.mdev ? ` for mdev ${p.mdev}` : ''}${p.vm ? ` of VM ${p.vm}` : ''}`;
      if (p.dev === null || p.dev === undefined) {
        out.push({ invariant: 'iommu-device-valid', message: `${what}: a NULL device reached the IOMMU layer (vfio_mdev_get_iommu_device returned NULL)`, events: cite });
      } else if (!capable.has(p.dev)) {
        out.push({ invariant: 'iommu-device-valid', message: `${what}: ${p.dev} is not an IOMMU-backed device`, events: cite });
      } else if (e.type !== 'iommu_aux_attach_device' && !members.get(p.domain)?.has(p.dev)) {
        out.push({ invariant: 'iommu-device-valid', message: `${what}: ${p.dev} is not attached to domain ${p.domain}`, events: cite });
      }
    }
    // an odd or mixed mdev group silently demoted to external_domain: IOMMU-backed devices with no IOMMU domain (bug #18)
    for (const e of h.events('vfio-type1', 'group.attached')) {
      const p = e.payload as { vm: string; group: string; where: string; why?: string; iommuDevices?: Array<string | null> };
      const backed = (p.iommuDevices ?? []).filter((d) => d !== null);
      if (p.where === 'external_domain' && backed.length) {
        out.push({ invariant: 'iommu-device-valid', message: `group ${p.group} of VM ${p.vm} (${p.why}) holds IOMMU-backed ${[...new Set(backed)].join(', ')} yet was attached to external_domain with no IOMMU domain: attach should fail loudly`, events: h.chain(e) });
      }
    }
    return out;
  },
};
