import { ERRNO, PGTT_SL_ONLY } from '../../../contracts/src/index.js';
import { reply } from '../request-reply.js';
import { devtlbFlush, flushPasidCache, flushPiotlb } from './caches.js';
import { firstFree } from './ioasid.js';
import { oops } from './oops.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState } from './state.js';

/**
 * intel_iommu_aux_attach_device (aux: the mdev's domain on a default PASID of its parent) and
 * intel_iommu_attach_device (the domain on the device's RID2PASID).
 */
export function intelIommuAttachDevice(s: HostVtdState, input: HostInputOf<'iommu_aux_attach_device' | 'iommu_attach_device'>): HostOut[] {
  const p = input.payload;
  const aux = input.type === 'iommu_aux_attach_device';
  const fn = aux ? 'intel_iommu_aux_attach_device' : 'intel_iommu_attach_device';
  if (p.dev === null || p.dev === undefined) return oops(input, fn, 'attach of a NULL device');
  const domain = s.domains[p.domain];
  if (!s.devices[p.dev] || !domain) return reply(input, { ret: -ERRNO.ENODEV });
  // __iommu_attach_group: a group attached to a domain other than its default one is busy; so a parent
  // attached whole (RID2PASID) to one VM's domain cannot be attached to another VM's
  const dev = p.dev;
  const owner = aux ? undefined : Object.entries(s.domains).find(([id, d]) => Number(id) !== p.domain && d.devs[dev]?.defaultPasid === 0);
  if (owner) {
    const why = `the group of ${dev} is attached to domain ${owner[0]} (VM ${owner[1].vm}), not its default domain`;
    return [evt('attach.rejected', { vm: p.vm, domain: p.domain, dev, mdev: p.mdev, errno: 'EBUSY', why }), ...reply(input, { ret: -ERRNO.EBUSY })];
  }
  const have = domain.devs[p.dev];
  if (have) return [evt('aux.attached', { vm: p.vm, domain: p.domain, dev: p.dev, mdev: p.mdev, defaultPasid: have.defaultPasid, aux }), ...reply(input, { ret: 0, value: have.defaultPasid })];
  // the aux domain's default PASID comes from the host's own set; a plain attach uses RID2PASID (0)
  const pasid = aux ? firstFree(s, 1, s.pasidMax - 1) : 0;
  if (pasid === null) return reply(input, { ret: -ERRNO.ENOSPC });
  return [
    ...(aux ? [evt('ioasid.allocated', { set: 'host', pasid })] : []),
    evt('aux.attached', { vm: p.vm, domain: p.domain, dev: p.dev, mdev: p.mdev, defaultPasid: pasid, aux }),
    evt('pasid_entry.set', { dev: p.dev, pasid, entry: { p: true, fpd: false, pgtt: PGTT_SL_ONLY, flptr: 0, did: domain.did, aw: 48, vm: domain.vm }, via: aux ? 'aux domain default PASID' : 'RID2PASID' }),
    ...reply(input, { ret: 0, value: pasid }),
  ];
}

/**
 * intel_iommu_aux_detach_device (void: nothing to answer): drop the mdev; the last one clears the
 * default PASID entry and flushes (§2.8). The devTLB flush is not waited for here.
 */
export function intelIommuAuxDetachDevice(s: HostVtdState, input: HostInputOf<'iommu_aux_detach_device'>): HostOut[] {
  const p = input.payload;
  const domain = s.domains[p.domain];
  if (!domain) return [];
  const dev = Object.keys(domain.devs).find((d) => domain.devs[d]!.mdevs.includes(p.mdev));
  if (!dev) return [];
  const info = domain.devs[dev]!;
  const outs: HostOut[] = [evt('aux.detached', { vm: p.vm, domain: p.domain, dev, mdev: p.mdev, last: info.mdevs.length === 1 })];
  if (info.mdevs.length === 1) {
    outs.push(
      evt('pasid_entry.cleared', { dev, pasid: info.defaultPasid, did: domain.did, vm: domain.vm, fpd: true, via: 'aux detach' }),
      flushPasidCache(s, domain.did, info.defaultPasid, 'aux detach'), flushPiotlb(s, domain.did, info.defaultPasid, 'all', 'aux detach'),
    );
    for (const o of devtlbFlush(s, input.id, dev, info.defaultPasid, 'all', 'aux detach').outs) outs.push(o);
    if (info.defaultPasid) outs.push(evt('ioasid.freed', { set: 'host', pasid: info.defaultPasid, bound: [] }));
  }
  return outs;
}
