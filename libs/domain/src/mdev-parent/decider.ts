import { ERRNO, type Envelope } from '../../../contracts/src/index.js';
import { cmd, drop, evt, put, replyLegacy as reply, type Decider, type Output, type Ret } from '../decider.js';
import { pageOf, vmBase, type RunOpen, type Topology } from '../topology.js';
import { devtlbInvalidate, groupResponse, issueDma, issuePr, pageReq, stepDone, translated } from './dma.js';
import { prgKey, type DmaInFlight, type MdevParentState } from './state.js';

const done = (input: Envelope, ret: number, extra: Record<string, unknown> = {}): Output =>
  cmd('orchestrator', 'step.completed', { step: (input.payload as { step: number }).step, outcome: { ret, ...extra } });

/** A scenario's page request: posted, so the step completes once it is sent; the response comes later. */
function stepPageRequest(s: MdevParentState, input: Envelope): Output[] {
  const p = input.payload as { step: number; mdev: string; pasid: number; va: number; write: boolean; lpig: boolean; pdp: boolean; pasid_present: boolean; pm_req: boolean; exe_req: boolean; prg?: number };
  const m = s.mdevs[p.mdev];
  if (!m || m.removed) return [done(input, -ERRNO.ENODEV)];
  const parent = s.parents[m.parent]!;
  if (parent.kind !== 'iommu-backed' || !parent.pri || s.absent[parent.id]) return [done(input, -ERRNO.ENODEV)];
  const prg = p.prg ?? s.nextPrg[parent.rid!] ?? 0;
  const req = pageReq(parent.rid!, p.pasid, p.va, !!p.write, p.lpig !== false, !!p.pdp, prg, { pasid_present: p.pasid_present !== false, pm_req: !!p.pm_req, exe_req: !!p.exe_req });
  return [...issuePr(p.mdev, m.vm, req, null), done(input, 0, { value: prg })];
}

/** vfio_pin_pages from the vendor driver (registering its DMA_UNMAP notifier the first time). */
function stepPinPages(s: MdevParentState, input: Envelope): Output[] {
  const p = input.payload as { step: number; mdev: string; gpa: number; pages: number };
  const m = s.mdevs[p.mdev];
  if (!m || m.removed) return [done(input, -ERRNO.ENODEV)];
  const pages = Array.from({ length: p.pages }, (_, i) => pageOf(p.gpa) + i);
  const reg: Output[] = s.notifiers[p.mdev] ? [] : [evt('notifier.registered', { mdev: p.mdev, vm: m.vm }), cmd('vfio-type1', 'vfio_register_notifier', { vm: m.vm, mdev: p.mdev })];
  return [...reg, evt('pin.waiting', { tag: input.id, step: p.step, mdev: p.mdev, pages }), cmd('vfio-type1', 'vfio_pin_pages', { vm: m.vm, mdev: p.mdev, pages, base: vmBase(s.topology!, m.vm), tag: input.id })];
}

function pinned(s: MdevParentState, input: Envelope): Output[] {
  const r = input.payload as Ret & { tag: string };
  const w = s.pinWaits[r.tag];
  if (!w) return [];
  const resumed = evt('pin.resumed', { tag: r.tag });
  if (r.ret < 0) return [resumed, ...stepDone(w.step, { ret: r.ret })];
  return [resumed, evt('pages.pinned', { mdev: w.mdev, pages: w.pages, hpas: r.value }), ...stepDone(w.step, { ret: 0 })];
}

/** VFIO_IOMMU_NOTIFY_DMA_UNMAP: the vendor driver must unpin what it pinned inside the range. */
function unmapNotify(s: MdevParentState, input: Envelope): Output[] {
  const p = input.payload as { vm: string; mdev: string; iova: number; size: number; noreply?: boolean };
  const first = pageOf(p.iova), last = first + Math.ceil(p.size / 4096);
  const pages = Object.keys(s.pins[p.mdev] ?? {}).map(Number).filter((g) => g >= first && g < last);
  const unpin = s.policy!['mdev.unpin_on_dma_unmap'] && pages.length
    ? [evt('pages.unpinned', { mdev: p.mdev, pages }), cmd('vfio-type1', 'vfio_unpin_pages', { vm: p.vm, mdev: p.mdev, pages })]
    : [evt('dma_unmap.notified', { mdev: p.mdev, pages, unpinned: false })];
  return [...unpin, ...(p.noreply ? [] : [reply(input, { ret: 0 })])];
}

export const mdevParentDecider: Decider<MdevParentState> = {
  component: 'mdev-parent',
  initialState: () => ({ parents: {}, mdevs: {}, absent: {}, devtlb: {}, dmas: {}, outstanding: {}, nextPrg: {}, pins: {}, notifiers: {}, pinWaits: {} }),

  decide(s, input): Output[] {
    const p = input.payload as Record<string, unknown>;
    switch (input.type) {
      case 'run.open': {
        const o = p as unknown as RunOpen;
        return [evt('parents.probed', { parents: o.topology.parents, topology: o.topology, policy: o.policy })];
      }
      case 'step.mdev_create': {
        const parent = s.parents[p.parent as string];
        if (!parent) return [done(input, -ERRNO.ENODEV)];
        if (s.mdevs[p.mdev as string]) return [done(input, -ERRNO.EBUSY)];
        const iommuDevice = parent.kind === 'iommu-backed' ? parent.rid! : null;
        return [evt('mdev.created', { mdev: p.mdev, parent: parent.id, vm: p.vm, iommuDevice }), done(input, 0)];
      }
      case 'step.mdev_clear_iommu_device': {
        if (!s.mdevs[p.mdev as string]) return [done(input, -ERRNO.ENODEV)];
        return [evt('mdev.iommu_device_cleared', { mdev: p.mdev, was: s.mdevs[p.mdev as string]!.iommuDevice }), done(input, 0)];
      }
      case 'vfio_mdev_get_iommu_device': {
        const m = s.mdevs[p.mdev as string];
        const parent = m ? s.parents[m.parent] : undefined;
        // an unknown mdev is not a struct mdev_device at all: NULL, as for a non-IOMMU one
        return [reply(input, { ret: 0, value: m?.iommuDevice ?? null, detail: { parent: m?.parent ?? null, aux: parent?.aux ?? true } })];
      }
      case 'step.dma':
        return issueDma(s, input);
      case 'ats_translate.ret':
      case 'dma_request.ret':
        return translated(s, input);
      case 'step.page_request':
        return stepPageRequest(s, input);
      case 'page_group_response':
        return groupResponse(s, input);
      case 'devtlb_invalidate':
        return devtlbInvalidate(s, input);
      case 'step.pin_pages':
        return stepPinPages(s, input);
      case 'vfio_pin_pages.ret':
        return pinned(s, input);
      case 'vfio_dma_unmap_notify':
        return unmapNotify(s, input);
      case 'step.mdev_remove': {
        const m = s.mdevs[p.mdev as string];
        if (!m || m.removed) return [done(input, -ERRNO.ENODEV)];
        // the vendor driver's release: unpin everything it still holds
        const pages = Object.keys(s.pins[p.mdev as string] ?? {}).map(Number);
        const unpin = pages.length ? [evt('pages.unpinned', { mdev: p.mdev, pages }), cmd('vfio-type1', 'vfio_unpin_pages', { vm: m.vm, mdev: p.mdev as string, pages })] : [];
        return [...unpin, evt('mdev.removed', { mdev: p.mdev, vm: m.vm }), done(input, 0)];
      }
      case 'step.device_remove': {
        const parent = s.parents[p.parent as string];
        if (!parent || s.absent[parent.id]) return [done(input, -ERRNO.ENODEV)];
        const gone = evt('device.removed', { parent: parent.id, rid: parent.rid ?? null, surprise: true });
        if (parent.kind !== 'iommu-backed') return [gone, done(input, 0)];
        return [gone, cmd('host-vtd', 'pci_surprise_removal', { rid: parent.rid!, step: p.step as number })];
      }
      default:
        return [evt('ignored', { why: `mdev-parent has no handler for ${input.type}` })];
    }
  },

  evolve(s, o): MdevParentState {
    if (o.kind !== 'event') return s;
    const p = o.payload;
    switch (o.type) {
      case 'parents.probed':
        return { ...s, parents: Object.fromEntries((p.parents as Topology['parents']).map((x) => [x.id, x])), topology: p.topology as Topology, policy: p.policy as MdevParentState['policy'] };
      case 'mdev.created':
        return { ...s, mdevs: put(s.mdevs, p.mdev as string, { parent: p.parent as string, vm: p.vm as string, iommuDevice: p.iommuDevice as string | null }) };
      case 'mdev.iommu_device_cleared':
        return { ...s, mdevs: put(s.mdevs, p.mdev as string, { ...s.mdevs[p.mdev as string]!, iommuDevice: null }) };
      case 'mdev.removed':
        return { ...s, mdevs: put(s.mdevs, p.mdev as string, { ...s.mdevs[p.mdev as string]!, removed: true }) };
      case 'device.removed':
        return { ...s, absent: put(s.absent, p.parent as string, true as const) };
      case 'dma.waiting':
        return { ...s, dmas: put(s.dmas, p.tag as string, p.dma as DmaInFlight) };
      case 'dma.waiting_prg':
        return { ...s, dmas: put(s.dmas, p.tag as string, p.dma as DmaInFlight) };
      case 'dma.resumed':
        return { ...s, dmas: drop(s.dmas, p.tag as string) };
      case 'devtlb.filled': {
        const rid = p.rid as string, pasid = p.pasid as number;
        const byRid = s.devtlb[rid] ?? {};
        return { ...s, devtlb: put(s.devtlb, rid, put(byRid, pasid, put(byRid[pasid] ?? {}, p.page as number, { hpa: p.hpa as number, w: p.w as boolean }))) };
      }
      case 'devtlb.invalidated': {
        const rid = p.rid as string, pasid = p.pasid as number;
        let next = s;
        if (s.devtlb[rid]?.[pasid]) {
          const left = { ...s.devtlb[rid]![pasid] };
          for (const pg of p.pages as number[]) delete left[pg];
          next = { ...s, devtlb: put(s.devtlb, rid, put(s.devtlb[rid]!, pasid, left)) };
        }
        const poisoned = p.poisoned as string[];
        if (!poisoned.length) return next;
        const dmas = { ...next.dmas };
        for (const t of poisoned) dmas[t] = { ...dmas[t]!, poisoned: true };
        return { ...next, dmas };
      }
      case 'page_request.issued': {
        if (!p.needsResponse) return { ...s, nextPrg: put(s.nextPrg, p.rid as string, ((p.prg as number) + 1) % 512) };
        return {
          ...s, nextPrg: put(s.nextPrg, p.rid as string, ((p.prg as number) + 1) % 512),
          outstanding: put(s.outstanding, prgKey(p.rid as string, p.pasid as number, p.prg as number), { mdev: p.mdev as string, dma: (p.dma as string | null) ?? null }),
        };
      }
      case 'page_response.received':
        return p.matched ? { ...s, outstanding: drop(s.outstanding, prgKey(p.rid as string, p.pasid as number, p.prg as number)) } : s;
      case 'notifier.registered':
        return { ...s, notifiers: put(s.notifiers, p.mdev as string, true as const) };
      case 'pin.waiting':
        return { ...s, pinWaits: put(s.pinWaits, p.tag as string, { step: p.step as number, mdev: p.mdev as string, pages: p.pages as number[] }) };
      case 'pin.resumed':
        return { ...s, pinWaits: drop(s.pinWaits, p.tag as string) };
      case 'pages.pinned': {
        const mine = { ...(s.pins[p.mdev as string] ?? {}) };
        (p.pages as number[]).forEach((g, i) => { mine[g] = (p.hpas as number[])[i]!; });
        return { ...s, pins: put(s.pins, p.mdev as string, mine) };
      }
      case 'pages.unpinned': {
        const mine = { ...(s.pins[p.mdev as string] ?? {}) };
        for (const g of p.pages as number[]) delete mine[g];
        return { ...s, pins: put(s.pins, p.mdev as string, mine) };
      }
      default:
        return s;
    }
  },
};
