import type { NestingOpKind, PolicyValues } from '../../../contracts/src/index.js';
import type { Caller } from '../request-reply.js';

/**
 * struct vfio_iommu of one container (vfio_iommu_type1.c). A VM may hold several (DOMAIN.md §7.15):
 * QEMU opens a new container when a group cannot join an existing one (a v2+ nesting container takes
 * one group), each with its own domains; the first has the VM's name as its id, the next `vm.c2`, ...
 */
export interface Container {
  id: string;
  vm: string;
  /** VFIO_TYPE1_NESTING_IOMMU: nesting = v2 = true */
  nesting: boolean;
  v2: boolean;
  /** domain_list: each vfio_domain with its group_list */
  domain_list: Array<{ domain: number; did: number; groups: string[] }>;
  /** groups with no IOMMU domain (non-IOMMU-backed or mixed mdev groups) */
  external_domain: string[];
  groups: Record<string, { mdev_group: boolean; devices: string[] }>;
  /** nesting_info is set only on the domain path */
  nesting_info: boolean;
  /** the container holds a reference on the VM's vfio_mm (taken at its first IOMMU-backed nesting attach) */
  vmm: boolean;
  /** guest RAM pages QEMU mapped (VFIO_IOMMU_MAP_DMA at GPA 0), minus what was unmapped since */
  ram_pages: number;
  unmapped: Array<[number, number]>;
  /** vfio_pfn list: pinned GPA page -> ref_count, per mdev (external domain only) */
  pins: Record<string, Record<number, number>>;
  /** mdevs whose vendor driver registered the VFIO_IOMMU_NOTIFY_DMA_UNMAP notifier */
  notifiers: Record<string, true>;
}

export type NestKind = NestingOpKind;

export interface WalkDev {
  domain: number;
  group: string;
  dev: string;
  mdev_group: boolean;
}

/** A for_each_dev walk in progress: one device at a time, as vfio_iommu_for_each_dev does. */
export interface NestWalk {
  kind: 'nest';
  op: NestKind;
  vm: string;
  caller: Caller;
  devs: WalkDev[];
  i: number;
  stage: 'resolve' | 'host';
  iommuDevice?: string | null;
  /** the devices this call bound (dev: the IOMMU device the bind was made on) */
  bound: Array<{ domain: number; dev: string | null; mdev: string }>;
  /** the guest's iommu_gpasid_bind_data or iommu_cache_invalidate_info, passed on as it came (the host checks it) */
  data: object;
  firstErr: number;
  /** devices whose call succeeded (iommufd's entry_num) */
  done: number;
  /** a failed bind's unwind (v1-v8): a second walk of unbinds over every device; `ret`: the bind's error, the answer */
  unwinding?: { ret: number };
  /** a FREE that tears the PASID down first (IOASID notifier): free these after the walk */
  thenFree?: number[];
  /** the unbinds of a VM teardown (§2.7): detach and release after them */
  teardown?: boolean;
}

/** What vfio_mdev_get_iommu_device said of one device of the group. */
export interface ResolvedDev {
  iommuDevice: string | null;
  parent: string | null;
  aux: boolean;
}

interface AttachCommon {
  kind: 'attach';
  vm: string;
  /** the container the group is joining */
  container: string;
  caller: Caller;
  group: string;
  devices: string[];
  resolved: ResolvedDev[];
  i: number;
}
/** vfio_iommu_type1_attach_group in progress: resolve every device, then allocate a domain, then attach each. */
export type AttachWalk = (AttachCommon & { stage: 'resolve' }) | (AttachCommon & { stage: 'domain' }) | (AttachCommon & { stage: 'attach'; domain: number; did: number });

export interface AllocWait {
  kind: 'alloc';
  vm: string;
  caller: Caller;
  range: [number, number];
}

export interface UnmapWait {
  kind: 'unmap';
  vm: string;
  caller: Caller;
  range: [number, number];
  retries: number;
  /** the container unmapped now */
  container: string;
  /** the VM's other containers, unmapped (or released) after this one: QEMU unmaps from each */
  rest: string[];
  /** the unmap of all of a teardown (vfio_iommu_unmap_unpin_all): the container is released after it */
  release?: true;
}

export type VfioOp = NestWalk | AttachWalk | AllocWait | UnmapWait;

export interface VfioState {
  policy?: PolicyValues;
  /** guest RAM pages of each VM (QEMU maps it all at GPA 0) */
  ram?: Record<string, number>;
  containers: Record<string, Container>;
  /** continuations keyed by the tag of the request they wait on (request-reply.ts) */
  calls: Record<string, VfioOp>;
  /** the containers of each VM, in the order QEMU opened them */
  vms: Record<string, string[]>;
  /** vfio_mm is per mm, not per container: the PASIDs each VM's mm owns, shared by its nesting containers */
  mm: Record<string, number[]>;
}

/** The containers of a VM, in the order QEMU opened them. */
export const containersOf = (s: VfioState, vm: string): Container[] => (s.vms[vm] ?? []).map((id) => s.containers[id]!);

/** The container whose groups hold `mdev` (its VFIO device was opened through that container). */
export const containerOfMdev = (s: VfioState, vm: string, mdev: string): Container | undefined =>
  containersOf(s, vm).find((c) => Object.values(c.groups).some((g) => g.devices.includes(mdev)));

/** The VM's vfio_mm PASIDs, or null when no container of the VM holds a vfio_mm. */
export const vmmOf = (s: VfioState, vm: string): number[] | null => (containersOf(s, vm).some((c) => c.vmm) ? (s.mm[vm] ?? []) : null);

/**
 * The container a VM-wide ioctl is issued on (PASID_REQUEST, NESTING_OP): the first with an IOMMU
 * domain (nesting_info, where QEMU registered its IOMMU context), else the first.
 */
export const primaryContainer = (s: VfioState, vm: string): Container | undefined => {
  const cs = containersOf(s, vm);
  return cs.find((c) => c.nesting_info) ?? cs[0];
};

export const VFIO_UNMAP_RETRIES = 10;

/** The host PASID a walk unbinds: the guest's `hpasid` field (UNBIND_PGTBL, a bind's unwind) or the FREE's / teardown's. */
export const hpasidOf = (w: NestWalk): unknown => ('hpasid' in w.data ? w.data.hpasid : undefined);
