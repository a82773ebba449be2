import type { InputTo, VfioType1Events } from '../../../contracts/src/index.js';
import { cmd, eventsOf, type Command } from '../decider.js';
import type { Container, NestWalk, VfioOp, VfioState, WalkDev } from './state.js';

/** What vfio_iommu_type1 returns: its events (its continuations are VfioOp) and its commands. */
export type VfioEvent = ReturnType<typeof evt>;
export type VfioOut = VfioEvent | Command;

/** An input of one type, its payload typed. */
export type VfioIn<K extends InputTo<'vfio-type1'>['type']> = Extract<InputTo<'vfio-type1'>, { type: K }>;

export const evt = eventsOf<VfioType1Events<VfioOp>>();

/** VFIO_SET_IOMMU on a new container of `vm`: the VM's first is named after it; QEMU opens more (DOMAIN.md §7.15). */
export function openContainer(s: VfioState, vm: string, nesting: boolean, why?: string): { event: VfioEvent; container: string } {
  const n = (s.vms[vm] ?? []).length;
  const container = n === 0 ? vm : `${vm}.c${n + 1}`;
  return { container, event: evt('container.set_iommu', { vm, container, type: nesting ? 'VFIO_TYPE1_NESTING_IOMMU' : 'VFIO_TYPE1v2_IOMMU', nesting, ...(why ? { why } : {}) }) };
}

/** vfio_pasid_free_range's frees: each PASID leaves the VM's vfio_mm and goes back to the host's IOASID set. */
export function freePasids(vm: string, pasids: number[]): VfioOut[] {
  return pasids.flatMap((pasid) => [evt('pasid.freed', { vm, pasid }), cmd('host-vtd', 'ioasid_free', { set: vm, pasid, noreply: true })]);
}

/**
 * The end of vfio_iommu_type1_release for one container: detach every device, free the domains,
 * release it (pins still held are what vfio_sanity_check_pfn_list WARNs about). Here beside
 * freePasids because both the release (vfio-iommu-type1-release.ts) and the unmap-all (pins.ts) use it.
 */
export function releaseContainer(c: Container): VfioOut[] {
  const vm = c.vm;
  const detach = c.domain_list.flatMap((d) => d.groups.flatMap((g) => c.groups[g]!.devices.map((mdev) => cmd('host-vtd', 'iommu_aux_detach_device', { vm, domain: d.domain, mdev, noreply: true }))));
  const domains = c.domain_list.map((d) => cmd('host-vtd', 'iommu_domain_free', { vm, domain: d.domain, noreply: true }));
  return [...detach, ...domains, evt('container.released', { vm, container: c.id, pins: Object.keys(c.pins).length })];
}

/**
 * What a per-device function of a for_each_dev walk does (vfio_dev_bind_gpasid_fn,
 * vfio_dev_unbind_gpasid_fn, vfio_dev_cache_invalidate_fn): the IOMMU call it makes on one device,
 * and what an error of that call means for the walk. The walk itself is vfio-iommu-for-each-dev.ts.
 */
export interface DevFn {
  /** the call on device `d` (its IOMMU device `dev`: NULL reaches the IOMMU layer only without the NULL check) */
  call(w: NestWalk, d: WalkDev, dev: string | null, tag: string): Command;
  /** the call succeeded on `d` */
  ok(w: NestWalk, d: WalkDev): NestWalk;
  /**
   * the device failed with `ret`, either in its IOMMU call or, `nullDevice`, at the function's own
   * NULL-IOMMU-device check before any call: the outputs first, then go on with the next device, end
   * the walk, or unwind every device
   */
  failed(s: VfioState, w: NestWalk, ret: number, nullDevice: boolean): { out: VfioOut[]; then: { next: NestWalk } | { finish: number } | { unwind: number } };
  /** what the walk's end reports besides ret (CACHE_INVLD: how many devices it reached, and whether the caller hears it) */
  summary?(s: VfioState, w: NestWalk): { entry_num: number; reported: boolean };
}
