import type { PageRequest, PolicyValues } from '../../../contracts/src/index.js';
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
  /** the VM whose second-level table (SLPTR, its RAM mapping) the entry nests on */
  vm?: string;
}

/** An IOTLB entry: the combined nested result, tagged DID + PASID + page (DOMAIN.md §1.4, §2.5.5). */
export interface IotlbEntry {
  hpa: number;
  w: boolean;
  gpa: number;
  vm: string;
}

/** Who is waiting for a host call that waits on the device (QI wait with a devTLB descriptor). */
export interface HostCaller {
  to: string;
  type: string;
  re: string;
  tag: unknown;
  noreply: boolean;
}

/** A flush or teardown parked on device-TLB invalidation completions. */
export interface HostWait {
  kind: 'unbind' | 'inval';
  caller: HostCaller;
  vm: string;
  dev: string;
  pasid: number;
  /** devTLB completions still awaited */
  acks: number;
  stage: 'flush' | 'drain' | 'done';
  ret: number;
  detail: Record<string, unknown>;
  unwind?: boolean;
}

export interface HostVtdState {
  policy?: PolicyValues;
  host?: Topology['host'];
  pasidMax: number;
  /** each VM's RAM in host physical memory (pages): base and size */
  vms: Record<string, { base: number; ram: number }>;
  /** PCI devices behind this IOMMU, by requester id */
  devices: Record<string, { parent: string; ats: boolean; pri: boolean; pasidBits: number; aux: boolean }>;
  /** devices that were surprise-removed */
  absent: Record<string, true>;
  /** the IOASID allocator: host PASID -> the set that owns it (a VM, or "host" for default PASIDs) */
  ioasid: Record<number, { set: string }>;
  /** dmar_domain: flags NESTING, DID, the devices aux-attached with their default PASID */
  domains: Record<number, { vm: string; nesting: boolean; did: number; devs: Record<string, { mdevs: string[]; defaultPasid: number }> }>;
  nextDomain: number;
  nextDid: number;
  /** intel_svm by host PASID, with its intel_svm_dev list keyed by device */
  svm: Record<number, { gpasid: number; vm: string; guestMode: boolean; devs: Record<string, { sid: string | null; users: number; domain: number }> }>;
  /** per device, its PASID table */
  pasidTable: Record<string, Record<number, PasidEntry>>;
  /** PASID cache: per PASID, per device, the entry last read (invalidated by DID + PASID) */
  pasidCache: Record<number, Record<string, PasidEntry>>;
  /** IOTLB: `${did}:${pasid}` -> page -> entry */
  iotlb: Record<string, Record<number, IotlbEntry>>;
  /** guest memory the walk reads: `${vm}:${table page}` -> va page -> PTE */
  mem: Record<string, Record<number, { gpa: number; w: boolean }>>;
  /** the page-request queue between head and tail, and whether the PRQ thread has work */
  prq: Array<PageRequest & { mdev: string }>;
  /** reported page requests awaiting the guest's page response: `${rid}:${pasid}:${prg}` */
  pendingFaults: Record<string, { vm: string; needsResponse: boolean }>;
  /** flushes and teardowns waiting for the device */
  waits: Record<string, HostWait>;
  /** the machine died: a host driver dereferenced NULL */
  oops: { fn: string } | null;
  /** a CPU spins in qi_submit_sync (ITE on an absent device, retried forever) */
  hung: { rid: string } | null;
}

export const iotlbKey = (did: number, pasid: number) => `${did}:${pasid}`;
export const memKey = (vm: string, tablePage: number) => `${vm}:${tablePage}`;
export const faultKey = (rid: string, pasid: number, prg: number) => `${rid}:${pasid}:${prg}`;
