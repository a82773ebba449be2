import { z } from 'zod';
import { repliesTo, StepFields, type PayloadsOf } from './message.js';
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

/** What the component records about itself. Placeholder until its events are typed (issue 9): any event. */
export type GuestViommuEvents<W = unknown> = { [type: string]: Record<string, unknown> };
