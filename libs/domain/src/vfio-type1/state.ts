import type { PolicyValues } from '../../../contracts/src/index.js';

/** struct vfio_iommu of one VM's container (vfio_iommu_type1.c) */
export interface Container {
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
  /** vfio_mm: the PASIDs this VM's mm owns */
  vmm: { pasids: number[] } | null;
}

/** Who asked, so the reply can find its way back once the walk ends. */
export interface Caller {
  to: 'guest-viommu' | 'orchestrator';
  type: string;
  re: string;
  tag: unknown;
  /** a scenario step (attach) completes to the orchestrator instead */
  step?: number;
}

export type NestKind = 'bind' | 'unbind' | 'inval';

/** A for_each_dev walk in progress: one device at a time, as vfio_iommu_for_each_dev does. */
export interface NestWalk {
  kind: 'nest';
  op: NestKind;
  vm: string;
  caller: Caller;
  devs: Array<{ domain: number; group: string; dev: string; mdev_group: boolean }>;
  i: number;
  stage: 'resolve' | 'host';
  iommuDevice?: string | null;
  bound: Array<{ domain: number; dev: string }>;
  data: Record<string, unknown>;
  firstErr: number;
}

export interface AttachWalk {
  kind: 'attach';
  vm: string;
  caller: Caller;
  group: string;
  devices: string[];
  resolved: Array<string | null>;
  stage: 'resolve' | 'domain' | 'aux';
  domain?: number;
  did?: number;
  i: number;
}

export interface AllocWait {
  kind: 'alloc';
  vm: string;
  caller: Caller;
}

export type VfioOp = NestWalk | AttachWalk | AllocWait;

export interface VfioState {
  policy?: PolicyValues;
  containers: Record<string, Container>;
  /** continuations keyed by the tag of the request they wait on */
  ops: Record<string, VfioOp>;
}
