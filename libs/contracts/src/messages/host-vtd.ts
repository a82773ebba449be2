import { z } from 'zod';
import type { ErrnoName } from '../errno.js';
import type { PolicyValues } from '../policy.js';
import type { HostSpec } from '../run-spec.js';
import type { PageRequest } from '../uapi.js';
import type { DevtlbDesc, FaultLevel, HostDevice, HostVm, PasidEntry } from './host-vtd-types.js';
import { PageRequestSchema, PageResponseSchema } from './uapi-schemas.js';
import { repliesTo, RequestFields, StepFields, type CallEvents, type LogEvents, type PayloadsOf } from './message.js';
import { RunOpenSchema } from './run.js';

export type { DevtlbDesc, FaultLevel, HostDevice, HostVm, PasidEntry } from './host-vtd-types.js';

/** A device as VFIO hands it to the IOMMU layer: its RID, or NULL (an mdev that is not IOMMU-backed). */
const Dev = z.string().nullable();
/** A call on a domain of a VM on behalf of a device (the iommu_* API). */
const OnDevice = { vm: z.string(), domain: z.number().int(), dev: Dev, mdev: z.string().optional(), ...RequestFields };

/**
 * The host VT-d driver and hardware (intel-iommu, intel-svm, the QI and the PRQ): what the others
 * ask of it. Guest-supplied structs (`data`, `info`) stay unknown here: the driver checks them as the
 * kernel does (argsz, version, flags) and answers -EINVAL, so a bad one is a finding, not a crash.
 */
export const HostVtdInputSchemas = {
  'run.open': RunOpenSchema,
  ioasid_alloc: z.object({ set: z.string(), min: z.number().int(), max: z.number().int(), ...RequestFields }),
  ioasid_free: z.object({ set: z.string(), pasid: z.number().int(), ...RequestFields }),
  iommu_domain_alloc: z.object({ vm: z.string(), nesting: z.boolean(), ...RequestFields }),
  iommu_domain_free: z.object({ vm: z.string(), domain: z.number().int(), ...RequestFields }),
  iommu_aux_attach_device: z.object({ ...OnDevice, mdev: z.string() }),
  iommu_attach_device: z.object({ ...OnDevice, mdev: z.string() }),
  iommu_aux_detach_device: z.object({ vm: z.string(), domain: z.number().int(), mdev: z.string(), ...RequestFields }),
  iommu_sva_bind_gpasid: z.object({ ...OnDevice, data: z.unknown() }),
  /** `unwind`: VFIO undoing a bind that failed on a later device of the walk */
  iommu_sva_unbind_gpasid: z.object({ ...OnDevice, data: z.unknown().optional(), pasid: z.unknown().optional(), unwind: z.boolean().optional() }),
  iommu_cache_invalidate: z.object({ ...OnDevice, info: z.unknown().optional(), unwind: z.boolean().optional() }),
  /** a device's ATS translation request, or its untranslated DMA */
  ats_translate: z.object({ rid: z.string(), pasid: z.number().int(), va: z.number(), write: z.boolean(), mdev: z.string(), ...RequestFields }),
  dma_request: z.object({ rid: z.string(), pasid: z.number().int(), va: z.number(), write: z.boolean(), mdev: z.string(), ...RequestFields }),
  /** a page request descriptor landing in the PRQ */
  page_request: z.object({ req: PageRequestSchema, mdev: z.string() }),
  iommu_page_response: z.object({ vm: z.string(), rid: z.string(), msg: PageResponseSchema.optional(), ...RequestFields }),
  pci_surprise_removal: z.object({ rid: z.string(), step: z.number().int().nonnegative().optional() }),
  /** fault injection (a device_fault step): the PRQ has no room for the next `count` page requests of `rid` */
  prq_full: z.object({ rid: z.string(), count: z.number().int().min(1).max(16), step: z.number().int().nonnegative().optional() }),
  /** a device's burst of `count` untranslated DMA requests with a PASID the IOMMU has no entry for (a fault_storm step) */
  dma_request_burst: z.object({ rid: z.string(), mdev: z.string(), count: z.number().int().min(1).max(64), step: z.number().int().nonnegative().optional() }),
  /** the guest's fault handler wrote a first-level PTE */
  'mem.write_pte': z.object({ vm: z.string(), gpgd: z.number(), va: z.number(), gpa: z.number(), write: z.boolean().optional() }),
  'step.guest_map': z.object({ ...StepFields, vm: z.string(), gpgd: z.number(), va: z.number(), gpa: z.number(), write: z.boolean(), pages: z.number().int().positive() }),
  'step.guest_unmap': z.object({ ...StepFields, vm: z.string(), gpgd: z.number(), va: z.number(), pages: z.number().int().positive() }),
  'step.prq_irq': z.object({ ...StepFields }),
  ...repliesTo('devtlb_invalidate'),
};
export type HostVtdInputs = PayloadsOf<typeof HostVtdInputSchemas>;

/** A caller-visible rejection: the errno and the check that failed, in the driver's terms. */
type Rejected = { errno: ErrnoName; why: string };
/** A flush of a cache by DID + PASID, and what it removed. */
type Flushed = { did: number; pasid: number; processed: number; why: string };

/**
 * What the host VT-d driver and hardware record about themselves. `W` is the continuation a flush or
 * a teardown parks while the device answers its devTLB invalidation (libs/domain host-vtd HostWait).
 */
export type HostVtdEvents<W = unknown> = {
  'host.configured': { host: HostSpec; devices: Record<string, HostDevice>; vms: Record<string, HostVm>; pasidMax: number; policy: PolicyValues };
  /** a host driver dereferenced NULL: the machine is dead */
  oops: { fn: string; what: string; detail: string; vm: string };
  /** a v5.9+ host met a NULL device where an oops was on v5.6-v5.8: WARN_ON(!iommu), -EINVAL (DOMAIN.md §7.2) */
  'null_device.warned': Rejected & { vm: string; fn: string };
  ignored: { why: string };
  /** pciehp: the device is gone (surprise removal) */
  'device.absent': { rid: string };
  // the IOASID allocator
  'ioasid.allocated': { set: string; pasid: number };
  'ioasid.exhausted': { set: string; min: number; max: number; held: number };
  'ioasid.free_ignored': { set: string; pasid: number };
  /** `bound`: the devices still bound to the PASID when it was freed */
  'ioasid.freed': { set: string; pasid: number; bound: string[] };
  // dmar_domain and aux attach
  'domain.allocated': { vm: string; domain: number; did: number; nesting: boolean };
  'domain.freed': { vm: string; domain: number };
  'aux.attached': { vm: string; domain: number; dev: string; mdev: string; defaultPasid: number; aux: boolean };
  'aux.detached': { vm: string; domain: number; dev: string; mdev: string; last: boolean };
  /** iommu_attach_device refused: the device's group is attached to another domain */
  'attach.rejected': Rejected & { vm: string; domain: number; dev: string; mdev: string };
  // the PASID table
  'pasid_entry.set': { dev: string; pasid: number; entry: PasidEntry; via: string };
  'pasid_entry.cleared': { dev: string; pasid: number; did: number; vm: string; fpd: boolean; via: string };
  // intel_svm_bind_gpasid / intel_svm_unbind_gpasid
  'svm.bound': { vm: string; dev: string; mdev: string | null; domain: number; hpasid: number; gpasid: number; sid: string | null; owner: string | null };
  'svm.users_inc': { vm: string; dev: string; mdev: string | null; domain: number; hpasid: number; users: number; boundDomain: number };
  'svm.users_dec': { vm: string; dev: string; hpasid: number; users: number };
  /**
   * list_del_rcu(&sdev->list): the first thing intel_svm_unbind_gpasid does at users = 0, before the
   * teardown and the drain, so prq_event_thread (an RCU reader) finds no sdev for the device from here on
   */
  'svm.sdev_unlinked': { vm: string; dev: string; hpasid: number };
  /** `drained`: intel_svm_drain_prq ran, or returned at once on a device without PRI (nothing to drain) */
  'svm.unbound': { vm: string; dev: string; hpasid: number; unwind: boolean; drained: boolean };
  /** `hpasid` as the user struct held it (unchecked) */
  'bind_gpasid.rejected': Rejected & { vm: string; dev: string; mdev: string | null; hpasid: unknown };
  'unbind_gpasid.rejected': Rejected & { vm: string; dev: string };
  'unbind_gpasid.noop': { vm: string; dev: string; pasid: number };
  // intel_iommu_sva_invalidate
  'sva_invalidate.rejected': Rejected & { vm: string; dev: string | null; kind: 'malformed' | 'refused' | 'unsupported' };
  'sva_invalidate.unsupported': { vm: string; dev: string; cache: string | undefined; granularity: string | undefined; kind: 'unsupported' };
  'sva_invalidate.warning': { dev: string; why: string };
  'sva_invalidate.done': { vm: string; dev: string; pasid: number; ret: number };
  // the queued invalidation (QI) and the caches it flushes
  'qi.piotlb': Flushed & { granu: 'NONG_PASID' | 'PSI_PASID'; addr: number; npages: number; pages: number[] };
  'qi.pasid_cache': Flushed & { granu: 'PASID_SEL'; devs: string[] };
  'qi.devtlb': DevtlbDesc;
  'qi.devtlb_skipped': DevtlbDesc & { because: string };
  /** the wait descriptor completed */
  /** `dev`: the device whose flush or teardown the wait ends */
  'qi.wait': { pasid: number; why: string; dev?: string };
  'qi.drain': { pasid: number; sid: string; opts: string; fence: boolean };
  /** an invalidation time-out error: the device did not answer the devTLB invalidation; `attempt`: the how-many-th of this wait */
  'qi.ite': { rid: string; pasid: number; attempt: number };
  /** qi_check_fault returned -EAGAIN after the ITE: qi_submit_sync resubmits the descriptors and waits again */
  'qi.resubmitted': { rid: string; pasid: number; attempt: number; why: string };
  /** v6.9+ qi_check_fault: the ITE's device is not present, -ETIMEDOUT; the flush gives up and the caller goes on */
  'qi.devtlb_timed_out': { rid: string; pasid: number; why: string };
  'qi.hung': { rid: string; fn: string; why: string };
  // the DMA request path: PASID cache, IOTLB, the nested walk
  'pasid_cache.filled': { rid: string; pasid: number; did: number; entry: PasidEntry };
  'iotlb.filled': { did: number; pasid: number; page: number; hpa: number; w: boolean; gpa: number; vm: string };
  'translation.done': {
    rid: string; pasid: number; va: number; page: number; write: boolean; hpa: number; w: boolean; gpa: number; vm: string; did: number;
    source: 'iotlb' | 'walk'; via: 'ats' | 'untranslated';
  };
  'translation.fault': {
    rid: string; pasid: number; va: number; page: number; write: boolean; reason: number; level: FaultLevel; fpd: boolean; vm: string | null;
    via: 'ats' | 'untranslated';
  };
  'fault.suppressed': { rid: string; pasid: number; va: number; reason: number; why: string };
  /** dmar_fault ran over `records` fault records: it printed `printed` lines, the ratelimit swallowed `suppressed` */
  'dmar_fault.handled': { records: number; printed: number; suppressed: number };
  /** `forwarded`: a first-stage fault the guest's vIOMMU sees */
  'fault.recorded': { rid: string; pasid: number; va: number; reason: number; level: FaultLevel; vm: string | null; mdev: string; forwarded: boolean };
  // the page-request queue (prq_event_thread) and intel_svm_page_response
  'prq.queued': { req: PageRequest & { mdev: string }; rid: string; pasid: number; prg: number; mdev: string };
  'prq.pass_done': { handled: number; why: string };
  /** fault injection: the PRQ has no room for the next `count` page requests of `rid` */
  'prq.full': { rid: string; count: number };
  /**
   * A page request the hardware did not write into the PRQ (VT-d 7.4.1): the queue was full (PRS_REG.PRO
   * set now) or PRO was already set; `consumed`: it used up one of an injected prq_full's requests
   */
  'prq.overflow': { rid: string; pasid: number; prg: number; lpig: boolean; pdp: boolean; pro: 'set' | 'already set'; consumed: boolean };
  /** prq_event_thread cleared PRS_REG.PRO at the end of a pass (head == tail) */
  'prq.pro_cleared': { why: string };
  'prq.drained': { pasid: number; dev: string };
  /** intel_svm_drain_prq returned at once: PRI is not enabled on the device, so no request can be pending */
  'prq.drain_skipped': { pasid: number; dev: string; why: string };
  'page_request.reported': {
    vm: string; rid: string; mdev: string; pasid: number; addr: number; prg: number; lpig: boolean; pdp: boolean; write: boolean; needsResponse: boolean;
  };
  /** `why` null: a good request of an svm not in guest mode, which the model never binds */
  'page_request.dropped': { rid: string; pasid: number; prg: number; lpig: boolean; pdp: boolean; why: string | null };
  'page_response.rejected': Rejected & { vm: string; rid: string; pasid: number | null };
  /** `by`: the guest's response, the PRQ thread's bad_req, the drain of an unbound PASID, or the hardware's own (a request it could not queue) */
  'page_response.sent': { rid: string; pasid: number; prg: number; code: string; by: 'guest' | 'prq_event_thread' | 'drain' | 'hardware'; why?: string | null; vm?: string };
  'fault.responded': { vm: string; rid: string; pasid: number; prg: number; by?: 'drain' };
  /** iommu_page_response took the pending fault off the list although the driver refused the response: the group is never answered */
  'fault.discarded': { vm: string; rid: string; pasid: number; prg: number; errno: ErrnoName; why: string };
  // guest memory: the first-level PTEs the walk reads
  'mem.pte_written': { vm: string; gpgd: number; table: number; page: number; pages: number; gpa: number; w: boolean; by: string };
  'mem.pte_cleared': { vm: string; gpgd: number; table: number; page: number; pages: number; by: string };
} & CallEvents<W> & LogEvents;
