import { ERRNO, PinnedHpasSchema, type InputTo, type Reply } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { completeStep, parked, reply, resumed } from '../request-reply.js';
import { pageOf, vmBase } from '../topology.js';
import { evt, pinnedPages, type MdevCall, type MdevParentState } from './state.js';

/**
 * The vendor driver of a non-IOMMU mdev (GVT-g style) pins the guest pages it DMAs to
 * (vfio_pin_pages), registering its DMA_UNMAP notifier the first time, and unpins on the notifier.
 */
export function stepPinPages(s: MdevParentState, input: InputTo<'mdev-parent'> & { type: 'step.pin_pages' }) {
  const p = input.payload;
  const m = s.mdevs[p.mdev];
  if (!m || m.removed) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  const pages = Array.from({ length: p.pages }, (_, i) => pageOf(p.gpa) + i);
  const reg = s.notifiers[p.mdev] ? [] : [evt('notifier.registered', { mdev: p.mdev, vm: m.vm }), cmd('vfio-type1', 'vfio_register_notifier', { vm: m.vm, mdev: p.mdev })];
  return [
    ...reg, parked<MdevCall>(input.id, { kind: 'pin', step: p.step, mdev: p.mdev, pages }),
    cmd('vfio-type1', 'vfio_pin_pages', { vm: m.vm, mdev: p.mdev, pages, base: vmBase(s.topology!, m.vm), tag: input.id }),
  ];
}

/** vfio_pin_pages returned: the host pages of the pinned GPA pages, or the errno. */
export function pinned(s: MdevParentState, r: Reply) {
  const call = r.tag === null ? undefined : s.calls[r.tag];
  if (r.tag === null || call?.kind !== 'pin') return [];
  const back = resumed<MdevCall>(r.tag);
  if (r.ret < 0) return [back, completeStep(call.step, { ret: r.ret })];
  const hpas = PinnedHpasSchema.safeParse(r.value).data;
  // a success without the host pages pins nothing the device could use (a decider never throws)
  if (!hpas) return [back, completeStep(call.step, { ret: -ERRNO.EIO })];
  return [back, evt('pages.pinned', { mdev: call.mdev, pages: call.pages, hpas }), completeStep(call.step, { ret: 0 })];
}

/** VFIO_IOMMU_NOTIFY_DMA_UNMAP: the vendor driver must unpin what it pinned inside the range. */
export function unmapNotify(s: MdevParentState, input: InputTo<'mdev-parent'> & { type: 'vfio_dma_unmap_notify' }) {
  const p = input.payload;
  const first = pageOf(p.iova), last = first + Math.ceil(p.size / 4096);
  const pages = pinnedPages(s, p.mdev, first, last);
  const unpin = s.policy!['mdev.unpin_on_dma_unmap'] && pages.length
    ? [evt('pages.unpinned', { mdev: p.mdev, pages }), cmd('vfio-type1', 'vfio_unpin_pages', { vm: p.vm, mdev: p.mdev, pages })]
    : [evt('dma_unmap.notified', { mdev: p.mdev, pages, unpinned: false })];
  // reply answers nothing when VFIO said it will not wait (noreply)
  return [...unpin, ...reply(input, { ret: 0 })];
}
