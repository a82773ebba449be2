import { z } from 'zod';
import { repliesTo, RequestFields, StepFields, type PayloadsOf } from './message.js';
import { RunOpenSchema } from './run.js';

/**
 * The VFIO type1 IOMMU driver: the VMM's ioctls on a container, the vendor drivers' calls, and the
 * scenario's container steps. The ioctl arguments are the VMM's (untrusted): `req` and `op` keep
 * only their outer shape here; vfio_iommu_type1 checks argsz and flags as the kernel does.
 */
export const VfioType1InputSchemas = {
  'run.open': RunOpenSchema,
  'step.vfio_set_iommu': z.object({ ...StepFields, vm: z.string(), nesting: z.boolean() }),
  'step.vfio_attach_group': z.object({ ...StepFields, vm: z.string(), group: z.string(), mdevs: z.array(z.string()) }),
  'step.dma_unmap': z.object({ ...StepFields, vm: z.string(), gpa: z.number(), size: z.number() }),
  /** QEMU exits */
  'step.vm_teardown': z.object({ ...StepFields, vm: z.string() }),
  VFIO_IOMMU_PASID_REQUEST: z.object({ vm: z.string(), req: z.unknown(), ...RequestFields }),
  VFIO_IOMMU_NESTING_OP: z.object({ vm: z.string(), op: z.unknown(), ...RequestFields }),
  vfio_register_notifier: z.object({ vm: z.string(), mdev: z.string() }),
  vfio_pin_pages: z.object({ vm: z.string(), mdev: z.string(), pages: z.array(z.number().int()), base: z.number().int(), ...RequestFields }),
  vfio_unpin_pages: z.object({ vm: z.string(), mdev: z.string(), pages: z.array(z.number().int()) }),
  ...repliesTo(
    'vfio_mdev_get_iommu_device', 'iommu_domain_alloc', 'iommu_aux_attach_device', 'iommu_attach_device', 'ioasid_alloc',
    'iommu_sva_bind_gpasid', 'iommu_sva_unbind_gpasid', 'iommu_cache_invalidate', 'vfio_dma_unmap_notify',
  ),
};
export type VfioType1Inputs = PayloadsOf<typeof VfioType1InputSchemas>;

/** What the component records about itself. Placeholder until its events are typed (issue 9): any event. */
export type VfioType1Events<W = unknown> = { [type: string]: Record<string, unknown> };
