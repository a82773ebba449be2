import { ERRNO, type ErrnoName } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { answer, callerOf, parked, type Caller } from '../request-reply.js';
import { evt, releaseContainer, type VfioIn, type VfioOut } from './common.js';
import { VFIO_UNMAP_RETRIES, containerOfMdev, containersOf, type Container, type UnmapWait, type VfioState } from './state.js';

const mapped = (c: Container, page: number) => page >= 0 && page < c.ram_pages && !c.unmapped.some(([a, b]) => page >= a && page < b);

/** Pins of any mdev inside [a, b): mdev -> pages. */
function pinsIn(c: Container, a: number, b: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [mdev, pages] of Object.entries(c.pins)) {
    const hit = Object.keys(pages).map(Number).filter((p) => p >= a && p < b);
    if (hit.length) out[mdev] = hit;
  }
  return out;
}

/** vfio_iommu_type1_pin_pages (DOMAIN.md §3, non-IOMMU path). */
export function pinPages(s: VfioState, input: VfioIn<'vfio_pin_pages'>): VfioOut[] {
  const p = input.payload;
  const c = containerOfMdev(s, p.vm, p.mdev);
  const no = (errno: ErrnoName, why: string) => [evt('pin_pages.rejected', { vm: p.vm, mdev: p.mdev, errno, why }), ...answer(callerOf(input), { ret: -ERRNO[errno] })];
  if (!c) return no('ENODEV', 'no container holds the mdev\'s group');
  if (!c.v2) return no('EACCES', 'not a v2 container');
  if (!c.notifiers[p.mdev]) return no('EINVAL', 'no VFIO_IOMMU_NOTIFY_DMA_UNMAP notifier registered');
  const bad = p.pages.find((g) => !mapped(c, g));
  if (bad !== undefined) return no('EINVAL', `IOVA page ${bad} is not mapped`);
  return [evt('pages.pinned', { vm: p.vm, mdev: p.mdev, pages: p.pages }), ...answer(callerOf(input), { ret: p.pages.length, value: p.pages.map((g) => p.base + g) })];
}

/** vfio_iommu_type1_unpin_pages */
export function unpinPages(s: VfioState, input: VfioIn<'vfio_unpin_pages'>): VfioOut[] {
  const p = input.payload;
  const c = containerOfMdev(s, p.vm, p.mdev);
  if (!c) return [];
  const pins = c.pins[p.mdev] ?? {};
  const pages = p.pages.filter((g) => pins[g]);
  return pages.length ? [evt('pages.unpinned', { vm: p.vm, mdev: p.mdev, pages })] : [];
}

/**
 * VFIO_IOMMU_UNMAP_DMA: notify the vendor drivers that pinned inside, retry, BUG_ON after 10 (§3).
 * QEMU's memory listener unmaps the range from each container of the VM, one after the other.
 */
export function dmaUnmap(s: VfioState, input: VfioIn<'step.dma_unmap'>): VfioOut[] {
  const p = input.payload;
  const [first, ...rest] = containersOf(s, p.vm).map((c) => c.id);
  const caller = callerOf(input);
  if (!first) return answer(caller, { ret: -ERRNO.ENODEV });
  const a = Math.floor(p.gpa / 4096), b = Math.ceil((p.gpa + p.size) / 4096);
  if (b <= a) return answer(caller, { ret: -ERRNO.EINVAL });
  return unmapRound(s, input.id, { kind: 'unmap', vm: p.vm, container: first, rest, caller, range: [a, b], retries: 0 });
}

/**
 * The release of a VM's containers `ids`, in order (vfio_iommu_type1_release of each): one whose
 * vendor drivers still pin pages is unmapped first (vfio_iommu_unmap_unpin_all, issue 10 §4), and the
 * rest follow when that is done; then the caller is answered.
 */
export function releaseAll(s: VfioState, tag: string, vm: string, caller: Caller, ids: string[]): VfioOut[] {
  const out: VfioOut[] = [];
  for (const [k, id] of ids.entries()) {
    const c = s.containers[id]!;
    if (Object.keys(c.pins).length) return [...out, ...unmapRound(s, tag, { kind: 'unmap', vm, container: id, rest: ids.slice(k + 1), caller, range: [0, c.ram_pages], retries: 0, release: true })];
    out.push(...releaseContainer(c));
  }
  return [...out, ...answer(caller, { ret: 0 })];
}

export function unmapRound(s: VfioState, tag: string, w: UnmapWait): VfioOut[] {
  const c = s.containers[w.container]!;
  const pinned = pinsIn(c, w.range[0], w.range[1]);
  const mdevs = Object.keys(pinned);
  if (!mdevs.length) {
    const unmapped = evt('dma.unmapped', { vm: w.vm, container: c.id, range: w.range });
    if (w.release) return [unmapped, ...releaseContainer(c), ...releaseAll(s, tag, w.vm, w.caller, w.rest)];
    const [next, ...rest] = w.rest;
    if (next) return [unmapped, ...unmapRound(s, tag, { ...w, container: next, rest, retries: 0 })];
    return [unmapped, ...answer(w.caller, { ret: 0 })];
  }
  if (w.retries > VFIO_UNMAP_RETRIES) {
    // BUG_ON(++retries > 10): the vendor driver never unpinned (bug #17)
    return [
      evt('unmap.bug_on', { vm: w.vm, range: w.range, pinned, retries: w.retries }),
      evt('dmesg', { level: 'crit', fn: 'vfio_dma_do_unmap', text: 'kernel BUG at drivers/vfio/vfio_iommu_type1.c: vfio_dma_do_unmap' }),
      evt('dmesg', { level: 'emerg', fn: 'vfio_dma_do_unmap', text: 'invalid opcode: 0000 [#1] SMP NOPTI' }),
      ...answer(w.caller, { ret: -ERRNO.EFAULT, oops: 'vfio_dma_do_unmap' }),
    ];
  }
  return [
    parked(tag, w),
    ...mdevs.map((mdev, k) => cmd('mdev-parent', 'vfio_dma_unmap_notify', { vm: w.vm, mdev, iova: w.range[0] * 4096, size: (w.range[1] - w.range[0]) * 4096, tag, last: k === mdevs.length - 1, noreply: k !== mdevs.length - 1 })),
  ];
}

/** The last notified vendor driver answered: look again for pins in the range. */
export function unmapReply(s: VfioState, tag: string, w: UnmapWait): VfioOut[] {
  return [evt('dma_unmap.retry', { vm: w.vm, round: w.retries + 1 }), ...unmapRound(s, tag, { ...w, retries: w.retries + 1 })];
}
