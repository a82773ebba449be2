import { cmd } from '../decider.js';
import { answer, type Caller } from '../request-reply.js';
import { evt, freePasids, type VfioOut } from './common.js';
import type { VfioState } from './state.js';

/**
 * After the unbinds of a FREE (vfio_pasid_free_range, with the IOASID notifier's teardown first) or
 * of a VM teardown (vfio_iommu_type1_release, §2.7): free the PASIDs; for a teardown, detach every
 * device, free the domains and release the container; then answer.
 */
export function afterUnbinds(s: VfioState, w: { vm: string; caller: Caller; thenFree?: number[]; teardown?: boolean }): VfioOut[] {
  const freed = freePasids(w.vm, w.thenFree ?? []);
  if (!w.teardown) return [...freed, ...answer(w.caller, { ret: 0 })];
  const c = s.containers[w.vm]!;
  const detach = c.domain_list.flatMap((d) => d.groups.flatMap((g) => c.groups[g]!.devices.map((mdev) => cmd('host-vtd', 'iommu_aux_detach_device', { vm: w.vm, domain: d.domain, mdev, noreply: true }))));
  const domains = c.domain_list.map((d) => cmd('host-vtd', 'iommu_domain_free', { vm: w.vm, domain: d.domain, noreply: true }));
  return [...freed, ...detach, ...domains, evt('container.released', { vm: w.vm, pins: Object.keys(c.pins).length }), ...answer(w.caller, { ret: 0 })];
}
