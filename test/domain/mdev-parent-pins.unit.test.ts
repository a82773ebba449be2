import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../libs/checkers/src/index.js';
import { run, scenarioOutcomes } from './support.js';

// A vendor driver that pins a page twice holds two references on it (vfio_pfn ref_count 2): when the
// DMA_UNMAP notifier fires it must drop both, or VFIO finds the page still pinned and BUGs (found by
// explore under mainline, issue 12 point 8).
const twice = (last: string) => `
name: pin-twice
description: a vGPU pins one guest page twice
parents:
  - { id: gvt0, kind: non-iommu }
vms:
  - id: vm1
    nesting: false
    mdevs:
      - { id: vgpu1, parent: gvt0 }
steps:
  - { op: pin_pages, mdev: vgpu1, gpa: 0x20000, pages: 1, expect: ok }
  - { op: pin_pages, mdev: vgpu1, gpa: 0x20000, pages: 4, expect: ok }
  - ${last}
`;

describe('mdev-parent: a page the vendor driver pinned twice', () => {
  for (const [what, last] of [
    ['VFIO_IOMMU_UNMAP_DMA of the range', '{ op: dma_unmap, vm: vm1, gpa: 0x20000, size: 0x4000, expect: ok }'],
    ['the VM\'s teardown', '{ op: vm_teardown, vm: vm1, expect: ok }'],
    ['the mdev\'s removal, then the teardown', '{ op: mdev_remove, mdev: vgpu1, expect: ok }\n  - { op: vm_teardown, vm: vm1, expect: ok }'],
  ] as const) {
    it(`is unpinned as often as it was pinned at ${what}: no BUG_ON, no pin left`, async () => {
      const r = await run(twice(last), 'mainline');
      expect(checkHistory(r.entries).violations).toEqual([]);
      expect(new Set(scenarioOutcomes(r))).toEqual(new Set(['ok']));
    });
  }
});
