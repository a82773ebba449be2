import { ERRNO, type InputTo } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { completeStep } from '../request-reply.js';
import { evt, pinnedPages, type MdevParentState } from './state.js';

type In<T extends string> = InputTo<'mdev-parent'> & { type: T };

/** mdev_device_remove: the vendor driver's release unpins everything it still holds. */
export function mdevDeviceRemove(s: MdevParentState, input: In<'step.mdev_remove'>) {
  const p = input.payload;
  const m = s.mdevs[p.mdev];
  if (!m || m.removed) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  const pages = pinnedPages(s, p.mdev);
  const unpin = pages.length ? [evt('pages.unpinned', { mdev: p.mdev, pages }), cmd('vfio-type1', 'vfio_unpin_pages', { vm: m.vm, mdev: p.mdev, pages })] : [];
  return [...unpin, evt('mdev.removed', { mdev: p.mdev, vm: m.vm }), completeStep(p.step, { ret: 0 })];
}

/** A parent surprise-removed from the bus: an IOMMU-backed one is the host's to clean up (pci_surprise_removal completes the step). */
export function pciSurpriseRemoval(s: MdevParentState, input: In<'step.device_remove'>) {
  const p = input.payload;
  const parent = s.parents[p.parent];
  if (!parent || s.absent[parent.id]) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  const gone = evt('device.removed', { parent: parent.id, rid: parent.rid ?? null, surprise: true });
  if (parent.kind !== 'iommu-backed') return [gone, completeStep(p.step, { ret: 0 })];
  return [gone, cmd('host-vtd', 'pci_surprise_removal', { rid: parent.rid!, step: p.step })];
}
