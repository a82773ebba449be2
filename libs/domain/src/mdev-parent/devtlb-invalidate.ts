import { ERRNO, type InputTo } from '../../../contracts/src/index.js';
import { reply } from '../request-reply.js';
import { evt, type MdevParentState } from './state.js';

/**
 * A devTLB invalidation request reaching the device (ATS Invalidate, from qi_flush_dev_iotlb_pasid):
 * drop exactly the scope, poison the translations in flight on the (RID, PASID), answer with the
 * count. A removed device never answers, and one with an injected ite (device-fault.ts) lets this one
 * time out, its TLB untouched: the IOMMU reports an ITE either way (`absent` says which, host-vtd qi.ts).
 */
export function devtlbInvalidate(s: MdevParentState, input: InputTo<'mdev-parent'> & { type: 'devtlb_invalidate' }) {
  const p = input.payload;
  const parent = Object.values(s.parents).find((x) => x.rid === p.rid);
  if (parent && s.absent[parent.id]) return reply(input, { ret: -ERRNO.EIO, detail: { ite: true, rid: p.rid, absent: true } });
  const ite = parent ? s.ite[parent.id] ?? 0 : 0;
  if (ite > 0) return [evt('devtlb.timed_out', { rid: p.rid, pasid: p.pasid, left: ite - 1 }), ...reply(input, { ret: -ERRNO.EIO, detail: { ite: true, rid: p.rid, absent: false } })];
  const cached = s.devtlb[p.rid]?.[p.pasid] ?? {};
  const pages = Object.keys(cached).map(Number).filter((pg) => p.npages === null || (pg >= p.first && pg < p.first + p.npages));
  const on = (d: { rid: string; pasid: number }) => d.rid === p.rid && d.pasid === p.pasid;
  // translations outstanding (calls) and DMAs waiting for a page response alike
  const poisoned = [
    ...Object.entries(s.calls).filter(([, c]) => c.kind === 'translate' && on(c.dma)).map(([t]) => t),
    ...Object.entries(s.dmas).filter(([, d]) => on(d)).map(([t]) => t),
  ];
  return [
    evt('devtlb.invalidated', { rid: p.rid, pasid: p.pasid, first: p.first, npages: p.npages, pages, processed: pages.length, poisoned, known: !!parent }),
    ...reply(input, { ret: 0, detail: { processed: pages.length } }),
  ];
}
