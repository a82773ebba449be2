import { z } from 'zod';
import type { ErrnoName } from '../errno.js';
import type { PolicyValues } from '../policy.js';
import { repliesTo, RequestFields, StepFields, type CallEvents, type LogEvents, type PayloadsOf } from './message.js';
import { RunOpenSchema } from './run.js';

/**
 * The VFIO type1 IOMMU driver: the VMM's ioctls on a container, the vendor drivers' calls, and the
 * scenario's container steps. The ioctl arguments are the VMM's (untrusted): `req` and `op` keep
 * only their outer shape here; vfio_iommu_type1 checks argsz and flags as the kernel does.
 */
export const VfioType1InputSchemas = {
  'run.open': RunOpenSchema,
  'step.vfio_set_iommu': z.object({ ...StepFields, vm: z.string(), nesting: z.boolean() }),
  /**
   * QEMU's vfio_connect_container: the group joins the first of the VM's containers that takes it, else a
   * new container; with `container`, VFIO_GROUP_SET_CONTAINER on that one only (its -EINVAL is the answer)
   */
  'step.vfio_attach_group': z.object({ ...StepFields, vm: z.string(), group: z.string(), mdevs: z.array(z.string()), container: z.string().optional() }),
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

/** The three operations of VFIO_IOMMU_NESTING_OP, as a walk and its events name them. */
export type NestingOpKind = 'bind' | 'unbind' | 'inval';

/**
 * What vfio_iommu_type1 records about itself. `W` is its continuation (libs/domain vfio-type1
 * state.ts VfioOp: a nesting walk, an attach, a PASID allocation or an unmap waiting for a reply).
 */
export type VfioType1Events<W = unknown> = {
  'vfio.configured': { policy: PolicyValues; ram: Record<string, number> };
  /** VFIO_SET_IOMMU on a new container; `why`: QEMU opened it because no container of the VM took a group */
  'container.set_iommu': { vm: string; container: string; type: 'VFIO_TYPE1_NESTING_IOMMU' | 'VFIO_TYPE1v2_IOMMU'; nesting: boolean; why?: string };
  'attach_group.rejected': { vm: string; group: string; errno: ErrnoName; why: string; container?: string };
  /** an IOMMU call of the attach failed (or oopsed) */
  'attach_group.failed': { vm: string; group: string; ret: number };
  'group.attached':
    | { vm: string; container: string; group: string; devices: string[]; where: 'external_domain'; why: string; iommuDevices: Array<string | null> }
    | { vm: string; container: string; group: string; devices: string[]; where: 'domain_list'; domain: number; did: number; nesting_info: boolean };
  /** a reference on the VM's vfio_mm (its PASID set, one per mm), taken at the first IOMMU-backed attach of a nesting container */
  'vfio_mm.get': { vm: string; container: string };
  /** `space`: the host PASID space (not the VM's quota) had none left in `range` */
  'pasid_request.rejected': { vm: string; errno: ErrnoName; why: string; space?: boolean; range?: [number, number] };
  'pasid.allocated': { vm: string; pasid: number };
  'pasid.freed': { vm: string; pasid: number };
  /** `op`: the op's name, or the op code the kernel does not know (-1: no flags at all) */
  'nesting_op.rejected': { vm: string; op: string | number; errno: ErrnoName; why: string };
  /** a for_each_dev walk begins; `for`/`pasid`: the unbinds of a FREE or a teardown, one PASID at a time */
  'nesting_op.started': { vm: string; op: 'BIND_PGTBL' | 'UNBIND_PGTBL' | 'CACHE_INVLD'; devices: string[]; for?: 'free' | 'teardown'; pasid?: unknown };
  /** vfio_get_iommu_device() returned NULL: the IOMMU layer never sees the call */
  'iommu_device.null': { vm: string; mdev: string; op: NestingOpKind; errno: 'EINVAL' };
  /** a failed bind undoes: every device again (v1: stopping at an error; v2-v8: the group, going on past the IOMMU's errors) or the devices this call bound */
  'bind.unwind': { vm: string; how: 'for_each_dev' | 'every_dev' | 'bound_only'; devices: string[] };
  /** `entry_num`: CACHE_INVLD's devices whose invalidation succeeded */
  'nesting_op.finished': { vm: string; op: NestingOpKind; ret: number; oops: string | null; entry_num?: number };
  /** `pins`: mdevs that still had pages pinned */
  'container.released': { vm: string; container: string; pins: number };
  'notifier.registered': { vm: string; mdev: string };
  'pin_pages.rejected': { vm: string; mdev: string; errno: ErrnoName; why: string };
  'pages.pinned': { vm: string; mdev: string; pages: number[] };
  'pages.unpinned': { vm: string; mdev: string; pages: number[] };
  'dma.unmapped': { vm: string; container: string; range: [number, number] };
  /** BUG_ON(++retries > 10): `pinned` is what the vendor drivers never unpinned, mdev -> pages */
  'unmap.bug_on': { vm: string; range: [number, number]; pinned: Record<string, number[]>; retries: number };
  'dma_unmap.retry': { vm: string; round: number };
  ignored: { why: string };
} & CallEvents<W> & LogEvents;
