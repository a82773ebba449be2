import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ScenarioSchema, type Scenario } from '../../libs/scenario/src/index.js';

type Raw = Record<string, any>;

/** A scenario file with `edit` done on it, validated: the bug-table scenarios with noise around them. */
function edited(file: string, edit: (raw: Raw) => void): Scenario {
  const raw = parse(readFileSync(file, 'utf8')) as Raw;
  edit(raw);
  return ScenarioSchema.parse(raw);
}

/**
 * scenarios/seed-null-iommu-device.yaml (5 steps) with noise, as exploration makes it: a second
 * parent and VM with mdevs, steps and background workload that have nothing to do with the NULL
 * device, knobs off their defaults.
 */
export const noisySeedNull = (): Scenario =>
  edited('scenarios/seed-null-iommu-device.yaml', (raw) => {
    raw.host = { caching_mode: true, pasid_bits: 16 };
    raw.parents.push({ id: 'gvt0', kind: 'non-iommu', ats: false });
    raw.vms[0].ram_pages = 8192;
    raw.vms.push({ id: 'vm2', nesting: false, mdevs: [{ id: 'mdev3', parent: 'gvt0' }, { id: 'mdev4', parent: 'dsa0' }] });
    raw.steps.splice(1, 0,
      { op: 'pasid_alloc', vm: 'vm2', as: 'q', count: 3 },
      { op: 'guest_map', vm: 'vm1', gpgd: 0x345000, va: 0x400000, gpa: 0x10000, pages: 4 },
      { op: 'dma', mdev: 'mdev1', pasid: '$p', va: 0x400000, background: true },
      { op: 'pin_pages', mdev: 'mdev3', gpa: 0x2000, pages: 2 },
    );
    raw.steps.push({ op: 'pasid_free', vm: 'vm2', pasid: '$q' }, { op: 'quiesce' });
    raw.workload = [
      { mdev: 'mdev4', pasid: '$q', op: 'dma', va: 0x800000, count: 5, from: 2 },
      { mdev: 'mdev1', pasid: '$p', op: 'page_request', va: 0x400000, count: 3, pages: 2, from: 3 },
    ];
  });

/**
 * scenarios/prq-no-drain-pasid-reuse.yaml (8 steps, bug #10) with noise: a third VM on a second
 * parent with a shared group, its PASIDs and DMA, an invalidation, a background workload.
 */
export const noisyPrq = (): Scenario =>
  edited('scenarios/prq-no-drain-pasid-reuse.yaml', (raw) => {
    raw.host.pasid_bits = 12;
    raw.parents.push({ id: 'dsa1', kind: 'iommu-backed', rid: '6b:01.0', pri: true, pasid_bits: 16 });
    raw.vms.push({ id: 'vm3', page_requests: 'ignore', mdevs: [{ id: 'mdev3', parent: 'dsa1', group: 'g34' }, { id: 'mdev4', parent: 'dsa1', group: 'g34' }, { id: 'mdev5', parent: 'dsa0' }] });
    raw.steps.splice(2, 0,
      { op: 'pasid_alloc', vm: 'vm3', as: 'r', count: 2 },
      { op: 'bind', vm: 'vm3', pasid: '$r', gpgd: 0x300000 },
      { op: 'guest_map', vm: 'vm1', gpgd: 0x100000, va: 0x500000, gpa: 0x10000, pages: 8 },
    );
    raw.steps.splice(8, 0,
      { op: 'dma', mdev: 'mdev3', pasid: '$r', va: 0x1000, background: true },
      { op: 'iotlb_invalidate', vm: 'vm1', pasid: '$p', granularity: 'addr', addr: 0x500000, pages: 4 },
    );
    raw.steps.push({ op: 'unbind', vm: 'vm3', pasid: '$r' }, { op: 'quiesce' });
    raw.workload = [{ mdev: 'mdev5', pasid: '$r', op: 'dma', va: 0x800000, count: 6, from: 4 }];
  });
