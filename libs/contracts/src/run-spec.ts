import type { ErrnoName } from './errno.js';
import type { Preset } from './policy.js';

/**
 * What a run is made of, in the domain's terms: the machine (host, parents, VMs) and what happens on
 * it (steps, background workload). The deciders (libs/domain) read these types; libs/scenario maps a scenario file
 * to them (runSpecOf), after validating it and filling its defaults.
 */

/** The host's VT-d unit and its PRQ thread. */
export interface HostSpec {
  /** VT-d caching mode: the host is itself emulated; flushes on entry setup */
  caching_mode: boolean;
  ecap: { nest: boolean; srs: boolean; eafs: boolean; pasid: boolean; prs: boolean; pds: boolean };
  /** 5-level first-stage paging (57-bit) */
  cap_5lp: boolean;
  la57: boolean;
  /** PASID_MAX = 1 << pasid_bits, shared by every VM and host SVA */
  pasid_bits: number;
  /** auto: the PRQ thread runs as soon as a request lands; manual: on a prq_irq step or a drain */
  prq_irq: 'auto' | 'manual';
}

/** A physical parent device: IOMMU-backed (mdev_set_iommu_device) or not (pins pages, GVT-g). */
export interface ParentSpec {
  id: string;
  kind: 'iommu-backed' | 'non-iommu';
  /** PCI requester id, e.g. "6a:01.0"; every iommu-backed parent has one */
  rid?: string;
  ats: boolean;
  pri: boolean;
  pasid_bits: number;
  /** IOMMU_DEV_FEAT_AUX: mdevs aux-attach with a default PASID each */
  aux: boolean;
}

/**
 * Who does a setup operation: `auto` (absent), the planner in the run's setup, before any step; or
 * `manual`, a step of the scenario, judged by its `expect:` like any other (libs/domain orchestrator/setup.ts).
 */
export type SetupMode = 'auto' | 'manual';

export interface MdevSpec {
  id: string;
  parent: string;
  /** IOMMU group; by default the mdev's own */
  group?: string;
  /** manual: an `mdev_create` step creates it */
  create?: SetupMode;
  /** manual: a `vfio_attach_group` step attaches its group (every mdev of the group says so) */
  attach?: SetupMode;
}

export interface VmSpec {
  id: string;
  /** VFIO_TYPE1_NESTING_IOMMU container, else type1v2 */
  nesting: boolean;
  mdevs: MdevSpec[];
  /** guest RAM in 4K pages, mapped at GPA 0 */
  ram_pages: number;
  /** what the guest's IOMMU driver does with a reported page request */
  page_requests: 'respond' | 'ignore';
  /** manual: a `vfio_set_iommu` step sets the container's IOMMU type */
  set_iommu?: SetupMode;
}

/**
 * A VM's IOMMU groups (an mdev's `group`, by default its own id), in the order their first mdev
 * appears, each with its mdevs and whether a step attaches it (`attach: manual` on its mdevs; the
 * scenario loader makes them agree, one is enough here).
 */
export function groupsOf(vm: Pick<VmSpec, 'mdevs'>): Map<string, { mdevs: string[]; manual: boolean }> {
  const groups = new Map<string, { mdevs: string[]; manual: boolean }>();
  for (const m of vm.mdevs) {
    const g = m.group ?? m.id;
    const entry = groups.get(g) ?? { mdevs: [], manual: false };
    entry.mdevs.push(m.id);
    entry.manual ||= m.attach === 'manual';
    groups.set(g, entry);
  }
  return groups;
}

/** How a guest-visible operation ended, as a scenario's `expect:` names it. */
export type OutcomeName = 'ok' | 'oops' | 'timeout' | ErrnoName;

/** Any one of these outcomes is as expected (`{ oneOf: [EACCES, ENOENT] }`). */
export interface OneOf {
  oneOf: OutcomeName[];
}

/** What a step is expected to return under one preset: an outcome, or alternatives. */
export type Expected = OutcomeName | OneOf;

/** What a step is expected to return, for every preset or per preset (with `default`). */
export type ExpectSpec = Expected | Partial<Record<Preset | 'default', Expected>>;

/**
 * One step: its op, what it expects, and the op's arguments (a number, or `$name` bound by an
 * earlier step's `as:`; the orchestrator resolves them before it sends the step).
 */
export interface StepSpec {
  op: string;
  expect?: ExpectSpec;
  note?: string;
  background?: boolean;
  as?: string;
  [arg: string]: unknown;
}

/** Background device activity: one op after each step from `from`, `count` times, walking `pages` pages. */
export interface WorkloadSpec {
  mdev: string;
  pasid: number | string;
  op: 'dma' | 'page_request';
  va: number;
  pages: number;
  write: boolean;
  from: number;
  count: number;
}

/** The machine of a run: what every component learns when the run opens (run.open). */
export interface Topology {
  host: HostSpec;
  parents: ParentSpec[];
  vms: VmSpec[];
}

export interface RunSpec {
  name: string;
  host: HostSpec;
  parents: ParentSpec[];
  vms: VmSpec[];
  steps: StepSpec[];
  workload: WorkloadSpec[];
}
