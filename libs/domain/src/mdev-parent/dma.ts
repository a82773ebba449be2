import { ERRNO, TranslationSchema, type InputTo, type Reply } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { completeStep, parked, resumed } from '../request-reply.js';
import { pageOf } from '../topology.js';
import { issuePr, pageReq } from './page-request.js';
import { evt, prgKey, type DmaInFlight, type MdevCall, type MdevParentState } from './state.js';

/**
 * The device's DMA with (RID, PASID): the devTLB first (ATS), else a translation request to the IOMMU
 * (ATS) or an untranslated DMA it walks; for a non-IOMMU parent (GVT-g style) the pages its vendor
 * driver pinned, no IOMMU in the path. A recoverable translation fault becomes a page request (PRI).
 */
export function issueDma(s: MdevParentState, input: InputTo<'mdev-parent'> & { type: 'step.dma' }) {
  const p = input.payload;
  const m = s.mdevs[p.mdev];
  if (!m || m.removed) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  const parent = s.parents[m.parent]!;
  if (s.absent[parent.id]) return [evt('dma.failed', { mdev: p.mdev, why: 'device removed' }), completeStep(p.step, { ret: -ERRNO.ENODEV })];
  const base = { mdev: p.mdev, vm: m.vm, pasid: p.pasid, va: p.va, page: pageOf(p.va), write: !!p.write };
  if (parent.kind === 'non-iommu') {
    // GVT-g style: the vendor driver DMAs to the pages it pinned (vfio_pin_pages), no IOMMU in the path
    const hpa = s.pins[p.mdev]?.[pageOf(p.va)]?.hpa;
    if (hpa === undefined) return [evt('dma.failed', { ...base, why: 'GPA not pinned' }), completeStep(p.step, { ret: -ERRNO.EFAULT })];
    return [evt('dma.completed', { ...base, rid: null, hpa, source: 'pinned' }), completeStep(p.step, { ret: 0, value: hpa })];
  }
  const rid = parent.rid!;
  const hit = parent.ats ? s.devtlb[rid]?.[p.pasid]?.[pageOf(p.va)] : undefined;
  if (hit && (!p.write || hit.w)) return [evt('dma.completed', { ...base, rid, hpa: hit.hpa, source: 'devtlb' }), completeStep(p.step, { ret: 0, value: hit.hpa })];
  const dma: DmaInFlight = { step: p.step, mdev: p.mdev, rid, pasid: p.pasid, va: p.va, write: !!p.write, poisoned: false, retried: false };
  return translateReq(input.id, dma, parent.ats);
}

/** An ATS translation request, or an untranslated DMA, to the IOMMU: the DMA waits for its answer (a call, tagged `tag`). */
export function translateReq(tag: string, dma: DmaInFlight, ats: boolean) {
  return [
    parked<MdevCall>(tag, { kind: 'translate', dma }),
    cmd('host-vtd', ats ? 'ats_translate' : 'dma_request', { rid: dma.rid, pasid: dma.pasid, va: dma.va, write: dma.write, mdev: dma.mdev, tag }),
  ];
}

/** The IOMMU answered a translation request or an untranslated DMA. */
export function translated(s: MdevParentState, input: InputTo<'mdev-parent'> & { type: 'ats_translate.ret' | 'dma_request.ret' }) {
  const r: Reply = input.payload;
  const call = r.tag === null ? undefined : s.calls[r.tag];
  if (r.tag === null || call?.kind !== 'translate') return [evt('ignored', { why: `translation for unknown DMA ${r.tag}` })];
  const dma = call.dma;
  const m = s.mdevs[dma.mdev]!;
  const parent = s.parents[m.parent]!;
  const done = resumed<MdevCall>(r.tag);
  const base = { mdev: dma.mdev, vm: m.vm, rid: dma.rid, pasid: dma.pasid, va: dma.va, page: pageOf(dma.va), write: dma.write };
  // an invalidation overtook the translation: discard it and ask again (ATS: no stale fill)
  if (dma.poisoned && r.ret >= 0) return [done, evt('dma.retranslate', { ...base }), ...translateReq(input.id, { ...dma, poisoned: false }, parent.ats)];
  if (r.ret >= 0) {
    const t = TranslationSchema.safeParse(r.value).data;
    // a success without a translation is no answer the device can use: the DMA fails (a decider never throws)
    if (!t) return [done, evt('dma.faulted', { ...base, reason: null }), completeStep(dma.step, { ret: -ERRNO.EIO })];
    const via = input.type === 'ats_translate.ret' ? 'ats' : 'untranslated';
    const fill = via === 'ats' ? [evt('devtlb.filled', { rid: dma.rid, pasid: dma.pasid, page: pageOf(dma.va), hpa: t.hpa, w: t.w })] : [];
    return [done, ...fill, evt('dma.completed', { ...base, hpa: t.hpa, source: via }), completeStep(dma.step, { ret: 0, value: t.hpa })];
  }
  const d = r.detail;
  if (d?.recoverable && parent.pri && !dma.retried) {
    // the device turns the translation fault into a page request and waits for the group response
    const prg = s.nextPrg[dma.rid] ?? 0;
    const req = pageReq(dma.rid, dma.pasid, dma.va, dma.write, true, false, prg);
    return [done, evt('dma.waiting_prg', { tag: r.tag, dma, key: prgKey(dma.rid, dma.pasid, prg) }), ...issuePr(dma.mdev, m.vm, req, r.tag)];
  }
  return [done, evt('dma.faulted', { ...base, reason: typeof d?.reason === 'number' ? d.reason : null }), completeStep(dma.step, { ret: r.ret })];
}
