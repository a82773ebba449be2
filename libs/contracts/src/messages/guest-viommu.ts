import { z } from 'zod';
import { repliesTo, StepFields, type CallEvents, type PayloadsOf } from './message.js';
import { RunOpenSchema } from './run.js';

const OnVm = { ...StepFields, vm: z.string() };
/** the fields of the VMM's own NESTING_OP(BIND_PGTBL / UNBIND_PGTBL) call (untrusted: any u32) */
const IoctlBind = z.object({
  ...OnVm, op_argsz: z.number(), argsz: z.number(), version: z.number(), format: z.number(), flags: z.number(), gpgd: z.number(),
  hpasid: z.number(), gpasid: z.number().optional(), addr_width: z.number(), vtd_flags: z.number(), pat: z.number(), emt: z.number(),
});

/**
 * The guest's vIOMMU (QEMU's emulated VT-d) and the guest driver behind it: the scenario's guest
 * steps, the host's reported page requests, and the replies to what it asked of VFIO.
 */
export const GuestViommuInputSchemas = {
  'run.open': RunOpenSchema,
  'step.pasid_alloc': z.object({ ...OnVm, min: z.number().int().optional(), max: z.number().int().optional(), count: z.number().int().positive().optional() }),
  'step.pasid_free': z.object({ ...OnVm, pasid: z.number().int() }),
  'step.bind': z.object({ ...OnVm, pasid: z.number().int(), gpgd: z.number(), addr_width: z.number(), pgtt: z.number().int(), sre: z.boolean().optional(), eafe: z.boolean().optional() }),
  'step.unbind': z.object({ ...OnVm, pasid: z.number().int() }),
  'step.iotlb_invalidate': z.object({ ...OnVm, pasid: z.number().int(), granularity: z.enum(['pasid', 'addr']), addr: z.number(), pages: z.number().int() }),
  'step.ioctl_pasid_request': z.object({ ...OnVm, argsz: z.number(), flags: z.number(), min: z.number(), max: z.number() }),
  'step.ioctl_bind': IoctlBind,
  'step.ioctl_unbind': IoctlBind,
  'step.ioctl_invalidate': z.object({
    ...OnVm, op_argsz: z.number(), argsz: z.number(), version: z.number(), cache: z.number(), granularity: z.number(), flags: z.number(),
    pasid: z.number(), addr: z.number(), granule_size: z.number(), nb_granules: z.number(),
  }),
  /** a page request the host reported (iommu_report_device_fault) */
  iommu_report_device_fault: z.object({
    vm: z.string(), rid: z.string(), pasid: z.number().int(), addr: z.number(), prg: z.number().int(), write: z.boolean(), lpig: z.boolean(), pdp: z.boolean(),
  }),
  ...repliesTo('VFIO_IOMMU_PASID_REQUEST', 'VFIO_IOMMU_NESTING_OP', 'iommu_page_response'),
};
export type GuestViommuInputs = PayloadsOf<typeof GuestViommuInputSchemas>;

/** A guest PASID-table entry, the fields QEMU's vtd_pasid_cache_sync reads. */
export type GuestPasidEntry = {
  pgtt: number;
  flptr: number;
  addr_width: number;
  sre: boolean;
  eafe: boolean;
};

/** A page request as the host reported it to the guest (iommu_report_device_fault). */
export type ReportedFault = GuestViommuInputs['iommu_report_device_fault'];

/**
 * The scope of a PASID-based IOTLB invalidation, as the wait descriptor's status write reports it;
 * `cache`: the iommu_cache_invalidate_info cache type bits passed on (IOTLB 1, DEV_IOTLB 2, PASID 4).
 */
export type InvalidationScope = { granularity: string; addr: number; pages: number; cache?: number };

/**
 * What the component records about itself. `W` is its parked continuation (libs/domain
 * guest-viommu/state.ts GuestCall): what it does with VFIO's reply to a request it sent.
 */
export type GuestViommuEvents<W = unknown> = {
  'viommu.realized': { vms: string[]; ram: number[]; faults: Array<'respond' | 'ignore'>; scalable_mode: boolean; vccap_pas: boolean };
  /** the guest driver wrote / cleared a PASID-table entry */
  'pasid_entry.written': { vm: string; pasid: number; entry: GuestPasidEntry };
  'pasid_entry.cleared': { vm: string; pasid: number };
  /** QEMU's PASID cache (vtd_pasid_cache_sync): an entry bound (or PT) / gone */
  'pasid_cache.filled': { vm: string; pasid: number; entry: GuestPasidEntry };
  'pasid_cache.evicted': { vm: string; pasid: number };
  /** the VCMD response register (VCRSP) after ALLOC_PASID */
  'vcmd.response': { vm: string; status: 'VCRSP_RSLT' | 'SC_NO_AVAILABLE_PASID'; pasid: number | null };
  /** one of the VMM's own ioctls returned */
  'ioctl.returned': { vm: string; ret: number };
  /** the wait descriptor's status write: the guest sees the batch as done (or QEMU reports the failure) */
  'wait_descriptor.completed': {
    vm: string; op: 'bind' | 'unbind' | 'inval'; pasid: number | null; ret: number; status: 'done' | 'error'; scope?: InvalidationScope;
  };
  /** a reported page request: left pending (the guest ignores faults), answered INVALID, or mapped and answered */
  'guest_fault.pending': ReportedFault;
  'guest_fault.invalid': ReportedFault & { why: string };
  'guest_fault.handled': ReportedFault & { gpa: number };
  'page_response.returned': { ret: number };
  ignored: { why: string };
} & CallEvents<W>;
