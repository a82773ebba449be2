import { z } from 'zod';
import { repliesTo, RequestFields, StepFields, type PayloadsOf } from './message.js';
import { RunOpenSchema } from './run.js';

/** A device op of a scenario step or of the background workload. */
const DeviceOp = { ...StepFields, mdev: z.string(), pasid: z.number().int(), va: z.number(), write: z.boolean().optional() };

/**
 * The mdev parent drivers and their physical devices (the device side: DMA, the device TLB, PRI):
 * what the others ask of them.
 */
export const MdevParentInputSchemas = {
  'run.open': RunOpenSchema,
  'step.mdev_create': z.object({ ...StepFields, mdev: z.string(), parent: z.string(), vm: z.string() }),
  /** a fault model: the parent driver drops the mdev's IOMMU device after attach */
  'step.mdev_clear_iommu_device': z.object({ ...StepFields, mdev: z.string() }),
  'step.dma': z.object(DeviceOp),
  'step.page_request': z.object({
    ...DeviceOp, lpig: z.boolean(), pdp: z.boolean(), pasid_present: z.boolean(), pm_req: z.boolean(), exe_req: z.boolean(), prg: z.number().int().optional(),
  }),
  'step.pin_pages': z.object({ ...StepFields, mdev: z.string(), gpa: z.number(), pages: z.number().int().positive() }),
  'step.mdev_remove': z.object({ ...StepFields, mdev: z.string() }),
  'step.device_remove': z.object({ ...StepFields, parent: z.string() }),
  /** VFIO asks which device backs an mdev (NULL for one that is not IOMMU-backed) */
  vfio_mdev_get_iommu_device: z.object({ mdev: z.string(), ...RequestFields }),
  /** a devTLB invalidation descriptor reaching the device (ATS Invalidate); npages null: all */
  devtlb_invalidate: z.object({ rid: z.string(), pasid: z.number().int(), first: z.number(), npages: z.number().nullable(), ...RequestFields }),
  /** a page group response reaching the device */
  page_group_response: z.object({ rid: z.string(), pasid: z.number().int(), prg: z.number().int(), code: z.number().int() }),
  /** VFIO's DMA-unmap notifier: the vendor driver unpins what it pinned in the range */
  vfio_dma_unmap_notify: z.object({ vm: z.string(), mdev: z.string(), iova: z.number(), size: z.number(), last: z.boolean().optional(), ...RequestFields }),
  ...repliesTo('ats_translate', 'dma_request', 'vfio_pin_pages', 'pci_surprise_removal'),
};
export type MdevParentInputs = PayloadsOf<typeof MdevParentInputSchemas>;

/** What the component records about itself. Placeholder until its events are typed (issue 9): any event. */
export type MdevParentEvents<W = unknown> = { [type: string]: Record<string, unknown> };
