import type {
  Command, DevtlbDesc, EventOf, HostDevice, HostSpec, HostVm, HostVtdEvents, HostVtdInputs, InputTo, PageRequest, PasidEntry, PolicyValues,
} from '../../../contracts/src/index.js';
import { eventsOf } from '../decider.js';
import type { Caller } from '../request-reply.js';

export type { PasidEntry };

/** An IOTLB entry: the combined nested result, tagged DID + PASID + page (DOMAIN.md §1.4, §2.5.5). */
export interface IotlbEntry {
  hpa: number;
  w: boolean;
  gpa: number;
  vm: string;
}

/**
 * What the host parks while qi_submit_sync waits for a device's devTLB invalidation completion (the
 * wait descriptor after a DEIOTLB descriptor), resumed by the device's `devtlb_invalidate.ret`:
 * - `unbind`: intel_svm_unbind_gpasid's teardown, at its `flush` (intel_pasid_tear_down_entry) or
 *   `drain` (intel_svm_drain_prq) stage;
 * - `inval`: intel_iommu_sva_invalidate's devTLB flush, answering `ret` when it completes.
 * `caller` is who called the driver and waits for its answer; `desc` the devTLB descriptor waited on,
 * resubmitted after an ITE (qi_check_fault's -EAGAIN), `ites` how many ITEs the wait has had.
 */
type Waiting = { caller: Caller; vm: string; dev: string; pasid: number; acks: number; desc?: DevtlbDesc; ites?: number };
export type HostWait =
  | (Waiting & { kind: 'unbind'; stage: 'flush' | 'drain'; unwind: boolean })
  | (Waiting & { kind: 'inval'; ret: number });

/** A page request between the PRQ's head and tail, with the mdev that issued it. */
export type Queued = PageRequest & { mdev: string };

export interface HostVtdState {
  policy?: PolicyValues;
  host?: HostSpec;
  pasidMax: number;
  /** each VM's RAM in host physical memory (pages): base and size */
  vms: Record<string, HostVm>;
  /** PCI devices behind this IOMMU, by requester id */
  devices: Record<string, HostDevice>;
  /** devices that were surprise-removed */
  absent: Record<string, true>;
  /** the IOASID allocator: host PASID -> the set that owns it (a VM, or "host" for default PASIDs) */
  ioasid: Record<number, { set: string }>;
  /** dmar_domain: flags NESTING, DID, the devices aux-attached with their default PASID */
  domains: Record<number, { vm: string; nesting: boolean; did: number; devs: Record<string, { mdevs: string[]; defaultPasid: number }> }>;
  nextDomain: number;
  nextDid: number;
  /** intel_svm by host PASID, with its intel_svm_dev list keyed by device */
  svm: Record<number, { gpasid: number; vm: string; guestMode: boolean; devs: Record<string, { sid: string | null; users: number; domain: number; unlinked?: true }> }>;
  /** per device, its PASID table */
  pasidTable: Record<string, Record<number, PasidEntry>>;
  /** PASID cache: per PASID, per device, the entry last read (invalidated by DID + PASID) */
  pasidCache: Record<number, Record<string, PasidEntry>>;
  /** IOTLB: `${did}:${pasid}` -> page -> entry */
  iotlb: Record<string, Record<number, IotlbEntry>>;
  /** guest memory the walk reads: `${vm}:${table page}` -> va page -> PTE */
  mem: Record<string, Record<number, { gpa: number; w: boolean }>>;
  /** the page-request queue between head and tail, and whether the PRQ thread has work */
  prq: Queued[];
  /** PRS_REG.PRO: the PRQ overflowed; the hardware queues no page request until software clears it */
  pro: boolean;
  /** fault injection: page requests per RID the PRQ has no room for (prq-overflow.ts) */
  prqFull: Record<string, number>;
  /** the thread's passes that found PRO since the last injection: its pr_info_ratelimited lines stop at the burst */
  proPasses: number;
  /** the lines dmar_fault's ratelimit swallowed in its last burst: reported when the next one starts */
  dmarSuppressed: number;
  /** reported page requests with LAST_PAGE (LPIG or PDP) awaiting the guest's page response: `${rid}:${pasid}:${prg}` */
  pendingFaults: Record<string, { vm: string }>;
  /** flushes and teardowns parked on a device's devTLB completion, by the tag of their request */
  calls: Record<string, HostWait>;
  /** the machine died: a host driver dereferenced NULL */
  oops: { fn: string } | null;
  /** a CPU spins in qi_submit_sync (ITE on an absent device, retried forever) */
  hung: { rid: string } | null;
}

/** An input of the host, and one of a given type. */
export type HostInput = InputTo<'host-vtd'>;
export type HostInputOf<K extends keyof HostVtdInputs> = Extract<HostInput, { type: K }>;
/** What the host's decider returns: its events and its commands to the others. */
export type HostEvent = EventOf<HostVtdEvents<HostWait>>;
export type HostOut = HostEvent | Command;
/** The host's event constructor, checked against its event map. */
export const evt = eventsOf<HostVtdEvents<HostWait>>();

export const iotlbKey = (did: number, pasid: number) => `${did}:${pasid}`;
export const memKey = (vm: string, tablePage: number) => `${vm}:${tablePage}`;
export const faultKey = (rid: string, pasid: number, prg: number) => `${rid}:${pasid}:${prg}`;
