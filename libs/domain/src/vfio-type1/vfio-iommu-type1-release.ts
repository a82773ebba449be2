import { answer, type Caller } from '../request-reply.js';
import { freePasids, type VfioOut } from './common.js';
import { releaseAll } from './pins.js';
import type { VfioState } from './state.js';

/**
 * After the unbinds of a FREE (vfio_pasid_free_range, with the IOASID notifier's teardown first) or
 * of a VM teardown (vfio_iommu_type1_release, §2.7): free the PASIDs; for a teardown, unmap all of the
 * guest's RAM first when a vendor driver still pins pages in it (vfio_iommu_unmap_unpin_all: the
 * DMA_UNMAP notifier makes every driver unpin, issue 10 §4), then release the container; then answer.
 * `tag`: the input handled now, which the unmap's notifications are parked under.
 */
export function afterUnbinds(s: VfioState, tag: string, w: { vm: string; caller: Caller; thenFree?: number[]; teardown?: boolean }): VfioOut[] {
  const freed = freePasids(w.vm, w.thenFree ?? []);
  if (!w.teardown) return [...freed, ...answer(w.caller, { ret: 0 })];
  return [...freed, ...releaseAll(s, tag, w.vm, w.caller, s.vms[w.vm] ?? [])];
}
