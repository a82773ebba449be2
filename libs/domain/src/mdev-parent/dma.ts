import { ERRNO, type Envelope, type PageRequest } from '../../../contracts/src/index.js';
import { cmd, evt, type Output, type Ret } from '../decider.js';
import { pageOf } from '../topology.js';
import { prgKey, type DmaInFlight, type MdevParentState } from './state.js';

export const stepDone = (step: number | null, r: Ret): Output[] => (step === null ? [] : [cmd('orchestrator', 'step.completed', { step, outcome: r })]);

/** The device issues a DMA with (RID, PASID): devTLB first (ATS), else a translation request or an untranslated DMA. */
export function issueDma(s: MdevParentState, input: Envelope): Output[] {
  const p = input.payload as { step: number; mdev: string; pasid: number; va: number; write?: boolean };
  const m = s.mdevs[p.mdev];
  if (!m || m.removed) return stepDone(p.step, { ret: -ERRNO.ENODEV });
  const parent = s.parents[m.parent]!;
  if (s.absent[parent.id]) return [evt('dma.failed', { mdev: p.mdev, why: 'device removed' }), ...stepDone(p.step, { ret: -ERRNO.ENODEV })];
  const base = { mdev: p.mdev, vm: m.vm, pasid: p.pasid, va: p.va, page: pageOf(p.va), write: !!p.write };
  if (parent.kind === 'non-iommu') {
    // GVT-g style: the vendor driver DMAs to the pages it pinned (vfio_pin_pages), no IOMMU in the path
    const hpa = s.pins[p.mdev]?.[pageOf(p.va)];
    if (hpa === undefined) return [evt('dma.failed', { ...base, why: 'GPA not pinned' }), ...stepDone(p.step, { ret: -ERRNO.EFAULT })];
    return [evt('dma.completed', { ...base, rid: null, hpa, source: 'pinned' }), ...stepDone(p.step, { ret: 0, value: hpa })];
  }
  const rid = parent.rid!;
  const hit = parent.ats ? s.devtlb[rid]?.[p.pasid]?.[pageOf(p.va)] : undefined;
  if (hit && (!p.write || hit.w)) return [evt('dma.completed', { ...base, rid, hpa: hit.hpa, source: 'devtlb' }), ...stepDone(p.step, { ret: 0, value: hit.hpa })];
  const dma: DmaInFlight = { step: p.step, mdev: p.mdev, rid, pasid: p.pasid, va: p.va, write: !!p.write, poisoned: false, retried: false };
  return translateReq(input, dma, parent.ats);
}

function translateReq(input: Envelope, dma: DmaInFlight, ats: boolean): Output[] {
  return [
    evt('dma.waiting', { tag: input.id, dma }),
    cmd('host-vtd', ats ? 'ats_translate' : 'dma_request', { rid: dma.rid, pasid: dma.pasid, va: dma.va, write: dma.write, mdev: dma.mdev, tag: input.id }),
  ];
}

/** The IOMMU answered a translation request or an untranslated DMA. */
export function translated(s: MdevParentState, input: Envelope): Output[] {
  const r = input.payload as Ret & { tag: string };
  const dma = s.dmas[r.tag];
  if (!dma) return [evt('ignored', { why: `translation for unknown DMA ${r.tag}` })];
  const m = s.mdevs[dma.mdev]!;
  const parent = s.parents[m.parent]!;
  const done = evt('dma.resumed', { tag: r.tag });
  const base = { mdev: dma.mdev, vm: m.vm, rid: dma.rid, pasid: dma.pasid, va: dma.va, page: pageOf(dma.va), write: dma.write };
  // an invalidation overtook the translation: discard it and ask again (ATS: no stale fill)
  if (dma.poisoned && r.ret >= 0) return [done, evt('dma.retranslate', { ...base }), ...translateReq(input, { ...dma, poisoned: false }, parent.ats)];
  if (r.ret >= 0) {
    const t = r.value as { hpa: number; w: boolean };
    const via = input.type === 'ats_translate.ret' ? 'ats' : 'untranslated';
    const fill = via === 'ats' ? [evt('devtlb.filled', { rid: dma.rid, pasid: dma.pasid, page: pageOf(dma.va), hpa: t.hpa, w: t.w })] : [];
    return [done, ...fill, evt('dma.completed', { ...base, hpa: t.hpa, source: via }), ...stepDone(dma.step, { ret: 0, value: t.hpa })];
  }
  const d = r.detail as { recoverable?: boolean; reason?: number } | undefined;
  if (d?.recoverable && parent.pri && !dma.retried) {
    // the device turns the translation fault into a page request and waits for the group response
    const prg = s.nextPrg[dma.rid] ?? 0;
    const req = pageReq(dma.rid, dma.pasid, dma.va, dma.write, true, false, prg);
    return [done, evt('dma.waiting_prg', { tag: r.tag, dma, key: prgKey(dma.rid, dma.pasid, prg) }), ...issuePr(dma.mdev, m.vm, req, r.tag)];
  }
  return [done, evt('dma.faulted', { ...base, reason: d?.reason ?? null }), ...stepDone(dma.step, { ret: r.ret })];
}

export function pageReq(rid: string, pasid: number, va: number, write: boolean, lpig: boolean, pdp: boolean, prg: number, extra: Partial<PageRequest> = {}): PageRequest {
  return { rid, pasid_present: true, pasid, addr: va, rd_req: !write, wr_req: write, exe_req: false, pm_req: false, lpig, prg_index: prg, priv_data_present: pdp, ...extra };
}

export function issuePr(mdev: string, vm: string, req: PageRequest, dma: string | null): Output[] {
  return [
    evt('page_request.issued', { mdev, vm, rid: req.rid, pasid: req.pasid, addr: req.addr, prg: req.prg_index, lpig: req.lpig, pdp: req.priv_data_present, pasid_present: req.pasid_present, needsResponse: req.lpig || req.priv_data_present, dma }),
    cmd('host-vtd', 'page_request', { req, mdev }),
  ];
}

/** A page group response reached the device: a DMA waiting on it retries once, or faults. */
export function groupResponse(s: MdevParentState, input: Envelope): Output[] {
  const p = input.payload as { rid: string; pasid: number; prg: number; code: number };
  const key = prgKey(p.rid, p.pasid, p.prg);
  const out = s.outstanding[key];
  const got = evt('page_response.received', { rid: p.rid, pasid: p.pasid, prg: p.prg, code: p.code, matched: !!out, mdev: out?.mdev ?? null });
  if (!out?.dma) return [got];
  const dma = s.dmas[out.dma];
  if (!dma) return [got];
  const m = s.mdevs[dma.mdev]!;
  const parent = s.parents[m.parent]!;
  if (p.code === 0) return [got, evt('dma.resumed', { tag: out.dma }), ...translateReq(input, { ...dma, retried: true, poisoned: false }, parent.ats)];
  return [got, evt('dma.resumed', { tag: out.dma }), evt('dma.faulted', { mdev: dma.mdev, vm: m.vm, rid: dma.rid, pasid: dma.pasid, va: dma.va, page: pageOf(dma.va), write: dma.write, reason: 'page response not SUCCESS' }), ...stepDone(dma.step, { ret: -ERRNO.EFAULT })];
}

/** A devTLB invalidation request (ATS Invalidate): drop exactly the scope, answer with the count. */
export function devtlbInvalidate(s: MdevParentState, input: Envelope): Output[] {
  const p = input.payload as { rid: string; pasid: number; first: number; npages: number | null; tag: string };
  const parent = Object.values(s.parents).find((x) => x.rid === p.rid);
  if (parent && s.absent[parent.id]) return [{ kind: 'command', to: 'host-vtd', type: 'devtlb_invalidate.ret', payload: { re: input.id, tag: p.tag, ret: -ERRNO.EIO, detail: { ite: true, rid: p.rid } } }];
  const cached = s.devtlb[p.rid]?.[p.pasid] ?? {};
  const pages = Object.keys(cached).map(Number).filter((pg) => p.npages === null || (pg >= p.first && pg < p.first + p.npages));
  const poisoned = Object.entries(s.dmas).filter(([, d]) => d.rid === p.rid && d.pasid === p.pasid).map(([t]) => t);
  return [
    evt('devtlb.invalidated', { rid: p.rid, pasid: p.pasid, first: p.first, npages: p.npages, pages, processed: pages.length, poisoned, known: !!parent }),
    { kind: 'command', to: 'host-vtd', type: 'devtlb_invalidate.ret', payload: { re: input.id, tag: p.tag, ret: 0, detail: { processed: pages.length } } },
  ];
}
