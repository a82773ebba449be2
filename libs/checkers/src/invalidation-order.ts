import { sorted, type Checker, type Violation } from './types.js';

const RANK = { 'pasid_entry.cleared': 0, 'qi.pasid_cache': 1, 'qi.piotlb': 2, 'qi.devtlb': 3, 'qi.devtlb_skipped': 3, 'qi.wait': 4 } as const;

/** The teardown or flush a QI descriptor belongs to, from the reason it was queued. */
const phaseOf = (why: string): 'teardown' | 'inval' | null => (why === 'teardown' || why === 'unbind' ? 'teardown' : why.startsWith('CACHE_INVLD') ? 'inval' : null);

/**
 * Entry change -> PASID cache -> IOTLB -> device TLB -> wait (DOMAIN.md §2.4, §6), per teardown or
 * flush, and per device: VFIO's walk tears down the PASID on each device of the container in turn, so
 * a device's entry clear after the previous device's final wait starts that device's own order (issue
 * 10 §5), and its CACHE_INVLD flushes each device in its own call (DOMAIN.md §7.14); and a
 * PASID-granular devTLB flush covers the whole range, addr 0 with S=1 (bug #9).
 */
export const invalidationOrder: Checker = {
  name: 'invalidation-order',
  check(h) {
    const out: Violation[] = [];
    const last = new Map<string, { rank: number; seq: number; type: string }>();
    // the device whose entry each teardown cleared last
    const clearedLast = new Map<string, string>();
    // what each device TLB holds, per (RID, PASID): page -> seq of the fill
    const devtlb = new Map<string, Map<number, number>>();
    for (const e of h.entries) {
      if (e.kind !== 'event') continue;
      if (e.component === 'mdev-parent' && (e.type === 'devtlb.filled' || e.type === 'devtlb.invalidated')) {
        const k = `${e.payload.rid}|${e.payload.pasid}`;
        if (e.type === 'devtlb.filled') (devtlb.get(k) ?? devtlb.set(k, new Map()).get(k)!).set(e.payload.page, e.seq);
        else for (const pg of e.payload.pages) devtlb.get(k)?.delete(pg);
        continue;
      }
      if (e.component !== 'host-vtd') continue;
      let phase: 'teardown' | 'inval' | null;
      switch (e.type) {
        case 'pasid_entry.cleared':
          phase = e.payload.via === 'intel_pasid_tear_down_entry' ? 'teardown' : null;
          break;
        case 'qi.devtlb': {
          const p = e.payload;
          if (p.why.includes('(PASID granularity)') && p.npages !== -1) {
            // a PASID-granular request must reach every entry of the PASID; the ones left outside the range can go stale
            const first = Math.floor(p.addr / 4096);
            const left = [...(devtlb.get(`${p.sid}|${p.pasid}`) ?? new Map<number, number>()).entries()].filter(([pg]) => pg < first || pg >= first + p.npages);
            if (left.length) {
              out.push({ invariant: 'invalidation-order', message: `PASID-granular devTLB flush of PASID ${p.pasid} on ${p.sid} covered ${p.npages} page(s) from the user's addr/size instead of the whole range (addr 0, S=1): ${left.length} cached entr${left.length === 1 ? 'y' : 'ies'} left`, events: sorted([...h.chain(e), ...left.map(([, seq]) => seq)]) });
            }
          }
          phase = phaseOf(p.why);
          break;
        }
        case 'qi.pasid_cache':
        case 'qi.piotlb':
        case 'qi.devtlb_skipped':
        case 'qi.wait':
          phase = phaseOf(e.payload.why);
          break;
        default:
          continue;
      }
      if (!phase) continue;
      const pasid = e.payload.pasid;
      // a teardown is judged per device: the device its entry clear, devTLB flush or wait names, else
      // the one whose entry was cleared last (the PASID cache and IOTLB flushes that follow name none).
      // A failed bind's unwind sends its unbinds at once, and the host may start the next device's
      // teardown while the last one waits on its device TLB, or resubmit one device's devTLB flush (an
      // ITE) after the other's final wait: each device keeps its own order (DOMAIN.md §7.14)
      const named = e.type === 'pasid_entry.cleared' ? e.payload.dev : e.type === 'qi.devtlb' ? e.payload.sid : e.type === 'qi.wait' ? e.payload.dev : undefined;
      const base = `${e.correlationId}|${pasid}|${phase}`;
      const ofDev = phase === 'teardown' ? named ?? clearedLast.get(base) : undefined;
      if (e.type === 'pasid_entry.cleared' && phase === 'teardown') clearedLast.set(base, e.payload.dev);
      const k = ofDev === undefined ? base : `${base}|${ofDev}`;
      const prev = last.get(k);
      const rank = RANK[e.type];
      // VFIO's CACHE_INVLD calls intel_iommu_sva_invalidate once per device of the container (the same
      // device again for each of its mdevs): a call that came in after the last flush's descriptor is its
      // own flush (the last one may end without a wait descriptor: its devTLB flush skipped, device gone)
      const call = phase === 'inval' ? h.inputOf(e) : undefined;
      const nextCall = prev !== undefined && call?.type === 'iommu_cache_invalidate' && call.seq > prev.seq;
      if (prev && prev.rank > rank && !nextCall) {
        out.push({ invariant: 'invalidation-order', message: `${e.type} for PASID ${pasid} came after ${prev.type}: the ${phase} order is entry -> PASID cache -> IOTLB -> devTLB -> wait`, events: sorted([prev.seq, e.seq]) });
      }
      last.set(k, { rank, seq: e.seq, type: e.type });
    }
    return out;
  },
};
