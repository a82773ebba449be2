import { answer, type Caller } from '../request-reply.js';
import { freePasids, releaseContainer, type VfioOut } from './common.js';
import { unmapRound } from './pins.js';
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
  const c = s.containers[w.vm]!;
  if (Object.keys(c.pins).length) return [...freed, ...unmapRound(s, tag, { kind: 'unmap', vm: w.vm, caller: w.caller, range: [0, c.ram_pages], retries: 0, release: true })];
  return [...freed, ...releaseContainer(s, w.vm, w.caller)];
}
