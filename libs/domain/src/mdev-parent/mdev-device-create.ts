import { ERRNO, type InputTo } from '../../../contracts/src/index.js';
import { completeStep, reply } from '../request-reply.js';
import { evt, type MdevParentState } from './state.js';

type In<T extends string> = InputTo<'mdev-parent'> & { type: T };

/**
 * mdev_device_create: the parent driver creates an mdev for a VM; an IOMMU-backed parent sets its
 * IOMMU device (mdev_set_iommu_device) to its own RID, a non-IOMMU one leaves it NULL.
 */
export function mdevDeviceCreate(s: MdevParentState, input: In<'step.mdev_create'>) {
  const p = input.payload;
  const parent = s.parents[p.parent];
  if (!parent) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  if (s.mdevs[p.mdev]) return [completeStep(p.step, { ret: -ERRNO.EBUSY })];
  const iommuDevice = parent.kind === 'iommu-backed' ? parent.rid! : null;
  return [evt('mdev.created', { mdev: p.mdev, parent: parent.id, vm: p.vm, iommuDevice }), completeStep(p.step, { ret: 0 })];
}

/** The fault model: the parent driver drops the mdev's IOMMU device after attach. */
export function mdevClearIommuDevice(s: MdevParentState, input: In<'step.mdev_clear_iommu_device'>) {
  const p = input.payload;
  const m = s.mdevs[p.mdev];
  if (!m) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  return [evt('mdev.iommu_device_cleared', { mdev: p.mdev, was: m.iommuDevice }), completeStep(p.step, { ret: 0 })];
}

/** mdev_get_iommu_device, as VFIO asks it: the device that backs the mdev, or NULL. */
export function mdevGetIommuDevice(s: MdevParentState, input: In<'vfio_mdev_get_iommu_device'>) {
  const m = s.mdevs[input.payload.mdev];
  const parent = m ? s.parents[m.parent] : undefined;
  // an unknown mdev is not a struct mdev_device at all: NULL, as for a non-IOMMU one
  return reply(input, { ret: 0, value: m?.iommuDevice ?? null, detail: { parent: m?.parent ?? null, aux: parent?.aux ?? true } });
}
