import type { Topology } from '../run-spec.js';

/**
 * The host VT-d structures that its events carry (libs/domain host-vtd keeps them in its state and
 * the checkers read them from the log).
 */

/** A scalable-mode PASID-table entry, the fields the model reads (pasid_entry val[]). */
export type PasidEntry = {
  p: boolean;
  fpd: boolean;
  pgtt: number;
  /** first-level table pointer (a GPA for nested) */
  flptr: number;
  did: number;
  aw: number;
  /** the VM whose second-level table (SLPTR, its RAM mapping) the entry nests on */
  vm?: string;
};

/** A PCI device behind the IOMMU, as the DMAR tables and its capabilities describe it. */
export type HostDevice = { parent: string; ats: boolean; pri: boolean; pasidBits: number; aux: boolean };

/** A VM's RAM in host physical memory (pages): base and size. */
export type HostVm = { base: number; ram: number };

/** The platform: the IOMMU's capabilities (the run's topology). */
export type HostPlatform = Topology['host'];

/** A devTLB invalidation descriptor (DEIOTLB, type 8) as the QI records it. */
export type DevtlbDesc = { sid: string; pasid: number; addr: number; npages: number; size: string; why: string };

/** Where a walk failed: the PASID table, the guest's first level or the host's second level. */
export type FaultLevel = 'context' | 'pasid' | 'first-stage' | 'second-stage';
