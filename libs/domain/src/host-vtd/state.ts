import type { PolicyValues } from '../../../contracts/src/index.js';
import type { Topology } from '../topology.js';

/** A scalable-mode PASID-table entry, the fields the model reads (pasid_entry val[]). */
export interface PasidEntry {
  p: boolean;
  fpd: boolean;
  pgtt: number;
  /** first-level table pointer (a GPA for nested) */
  flptr: number;
  did: number;
  aw: number;
}

export interface HostVtdState {
  policy?: PolicyValues;
  host?: Topology['host'];
  /** PCI devices behind this IOMMU, by requester id */
  devices: Record<string, { parent: string; ats: boolean; pri: boolean }>;
  /** the IOASID allocator: host PASID -> the set that owns it (a VM, or "host" for default PASIDs) */
  ioasid: Record<number, { set: string }>;
  /** dmar_domain: flags NESTING, DID, the devices aux-attached with their default PASID */
  domains: Record<number, { vm: string; nesting: boolean; did: number; devs: Record<string, { mdevs: string[]; defaultPasid: number }> }>;
  nextDomain: number;
  nextDid: number;
  /** intel_svm by host PASID, with its intel_svm_dev list */
  svm: Record<number, { gpasid: number; vm: string; guestMode: boolean; devs: Record<string, { sid: string; users: number; domain: number }> }>;
  /** per device, its PASID table */
  pasidTable: Record<string, Record<number, PasidEntry>>;
  /** the machine died: a host driver dereferenced NULL */
  oops: { fn: string } | null;
}
