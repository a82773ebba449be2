import { z } from 'zod';
import { PageRequestSchema, PageResponseSchema } from './uapi-schemas.js';
import { repliesTo, RequestFields, StepFields, type PayloadsOf } from './message.js';
import { RunOpenSchema } from './run.js';

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
  /** the guest's fault handler wrote a first-level PTE */
  'mem.write_pte': z.object({ vm: z.string(), gpgd: z.number(), va: z.number(), gpa: z.number(), write: z.boolean().optional() }),
  'step.guest_map': z.object({ ...StepFields, vm: z.string(), gpgd: z.number(), va: z.number(), gpa: z.number(), write: z.boolean(), pages: z.number().int().positive() }),
  'step.guest_unmap': z.object({ ...StepFields, vm: z.string(), gpgd: z.number(), va: z.number(), pages: z.number().int().positive() }),
  'step.prq_irq': z.object({ ...StepFields }),
  ...repliesTo('devtlb_invalidate'),
};
export type HostVtdInputs = PayloadsOf<typeof HostVtdInputSchemas>;

/** What the component records about itself. Placeholder until its events are typed (issue 9): any event. */
export type HostVtdEvents<W = unknown> = { [type: string]: Record<string, unknown> };
