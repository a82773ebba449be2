import { payload, sorted, type Checker, type Violation } from './types.js';

const RANK: Record<string, number> = { 'pasid_entry.cleared': 0, 'qi.pasid_cache': 1, 'qi.piotlb': 2, 'qi.devtlb': 3, 'qi.devtlb_skipped': 3, 'qi.wait': 4 };

/**
 * Entry change -> PASID cache -> IOTLB -> device TLB -> wait (DOMAIN.md §2.4, §6), per teardown or
 * flush; and a PASID-granular devTLB flush covers the whole range, addr 0 with S=1 (bug #9).
 */
export const invalidationOrder: Checker = {
  name: 'invalidation-order',
  check(h) {
    const out: Violation[] = [];
    const last = new Map<string, { rank: number; seq: number; type: string }>();
    // what each device TLB holds, per (RID, PASID): page -> seq of the fill
    const devtlb = new Map<string, Map<number, number>>();
    for (const e of h.entries) {
      if (e.kind === 'event' && e.component === 'mdev-parent' && (e.type === 'devtlb.filled' || e.type === 'devtlb.invalidated')) {
        const d = payload<{ rid: string; pasid: number; page?: number; pages?: number[] }>(e);
        const k = `${d.rid}|${d.pasid}`;
        if (e.type === 'devtlb.filled') (devtlb.get(k) ?? devtlb.set(k, new Map()).get(k)!).set(d.page!, e.seq);
        else for (const pg of d.pages ?? []) devtlb.get(k)?.delete(pg);
        continue;
      }
      if (e.kind !== 'event' || e.component !== 'host-vtd' || !(e.type in RANK)) continue;
      const p = payload<{ pasid: number; why?: string; via?: string; npages?: number; addr?: number; sid?: string }>(e);
      if (e.type === 'qi.devtlb' && p.why?.includes('(PASID granularity)') && p.npages !== -1) {
        // a PASID-granular request must reach every entry of the PASID; the ones left outside the range can go stale
        const first = Math.floor((p.addr ?? 0) / 4096);
        const left = [...(devtlb.get(`${p.sid}|${p.pasid}`) ?? new Map<number, number>()).entries()].filter(([pg]) => pg < first || pg >= first + (p.npages ?? 0));
        if (left.length) {
          out.push({ invariant: 'invalidation-order', message: `PASID-granular devTLB flush of PASID ${p.pasid} on ${p.sid} covered ${p.npages} page(s) from the user's addr/size instead of the whole range (addr 0, S=1): ${left.length} cached entr${left.length === 1 ? 'y' : 'ies'} left`, events: sorted([...h.chain(e), ...left.map(([, seq]) => seq)]) });
        }
      }
      const phase = e.type === 'pasid_entry.cleared' ? (p.via === 'intel_pasid_tear_down_entry' ? 'teardown' : null) : p.why === 'teardown' || p.why === 'unbind' ? 'teardown' : p.why?.startsWith('CACHE_INVLD') ? 'inval' : null;
      if (!phase) continue;
      const k = `${e.correlationId}|${p.pasid}|${phase}`;
      const prev = last.get(k);
      const rank = RANK[e.type]!;
      if (prev && prev.rank > rank) {
        out.push({ invariant: 'invalidation-order', message: `${e.type} for PASID ${p.pasid} came after ${prev.type}: the ${phase} order is entry -> PASID cache -> IOTLB -> devTLB -> wait`, events: sorted([prev.seq, e.seq]) });
      }
      last.set(k, { rank, seq: e.seq, type: e.type });
    }
    return out;
  },
};
