import type { PolicyValues, Preset } from '../../contracts/src/index.js';

/** What every component learns when a run opens (the first entries of the run carry it). */
export interface Topology {
  host: {
    caching_mode: boolean;
    ecap: { nest: boolean; srs: boolean; eafs: boolean; pasid: boolean; prs: boolean; pds: boolean };
    cap_5lp: boolean;
    la57: boolean;
  };
  parents: Array<{ id: string; kind: 'iommu-backed' | 'non-iommu'; rid?: string; ats: boolean; pri: boolean }>;
  vms: Array<{ id: string; nesting: boolean; mdevs: Array<{ id: string; parent: string; group?: string }> }>;
}

export interface RunOpen {
  preset: Preset;
  policy: PolicyValues;
  topology: Topology;
}

/** 20-bit PASID space (PASID_MAX 0x100000). */
export const PASID_MAX = 0x100000;
