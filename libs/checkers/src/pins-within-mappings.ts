import type { Checker, Violation } from './types.js';

/** Pinned pages of a non-IOMMU mdev stay inside live DMA mappings and return to zero at teardown (bug #17). */
export const pinsWithinMappings: Checker = {
  name: 'pins-within-mappings',
  check(h) {
    const out: Violation[] = [];
    for (const e of h.events('vfio-type1', 'unmap.bug_on')) {
      const p = e.payload;
      out.push({ invariant: 'pins-within-mappings', message: `VFIO_IOMMU_UNMAP_DMA of GPA pages [0x${p.range[0].toString(16)}, 0x${p.range[1].toString(16)}) of VM ${p.vm}: ${Object.entries(p.pinned).map(([m, g]) => `${m} still pins ${g.length} page(s)`).join(', ')} after ${p.retries - 1} DMA_UNMAP notifications (BUG_ON)`, events: h.chain(e) });
    }
    for (const e of h.events('vfio-type1', 'container.released')) {
      const p = e.payload;
      if (p.pins) out.push({ invariant: 'pins-within-mappings', message: `container of VM ${p.vm} released with pins left (vfio_sanity_check_pfn_list)`, events: h.chain(e) });
    }
    return out;
  },
};
