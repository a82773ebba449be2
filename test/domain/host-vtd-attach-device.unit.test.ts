import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../libs/checkers/src/index.js';
import { payloadOf, run, scenarioOutcomes } from './support.js';

// A parent without aux domains is attached whole (iommu_attach_device, RID2PASID) to the domain of the
// VM whose mdev it backs. The core refuses to attach its group to a second domain while it is in the
// first (__iommu_attach_group: group->domain != group->default_domain -> -EBUSY), so a second VM's
// mdev on it cannot take the parent's DMA away from the first (found by explore under mainline).
const sc = `
name: non-aux-parent-two-vms
description: mdevs of two VMs on one parent that attaches without aux domains
parents:
  - { id: dsa0, kind: iommu-backed, rid: "6a:01.0", aux: false }
vms:
  - id: vm1
    mdevs:
      - { id: mdev1, parent: dsa0 }
  - id: vm2
    mdevs:
      - { id: mdev2, parent: dsa0, attach: manual }
steps:
  - { op: vfio_attach_group, vm: vm2, group: mdev2, expect: EBUSY }
  - { op: dma, mdev: mdev1, pasid: 0, va: 0x400000, expect: ok }
`;

describe('host-vtd: iommu_attach_device of a parent attached to another domain', () => {
  it('is -EBUSY; VFIO returns it, frees its domain, and the first VM keeps the parent', async () => {
    const r = await run(sc, 'mainline');
    expect(scenarioOutcomes(r)).toEqual(['EBUSY', 'ok']);
    expect(checkHistory(r.entries).violations).toEqual([]);
    const rejected = r.entries.find((e) => e.kind === 'event' && e.type === 'attach.rejected');
    expect(payloadOf(rejected!)).toMatchObject({ vm: 'vm2', dev: '6a:01.0', errno: 'EBUSY' });
    const freed = r.entries.filter((e) => e.kind === 'event' && e.type === 'domain.freed').map((e) => payloadOf(e).vm);
    expect(freed).toEqual(['vm2']);
    const rid2pasid = r.entries.filter((e) => e.kind === 'event' && e.type === 'pasid_entry.set' && payloadOf(e).pasid === 0);
    expect(rid2pasid.map((e) => (payloadOf(e).entry as { vm: string }).vm)).toEqual(['vm1']);
  });
});
