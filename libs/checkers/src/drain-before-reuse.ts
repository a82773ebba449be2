import { LostIommuDevices, lostWhileBound } from './lost-iommu.js';
import { sorted, type Checker, type Violation } from './types.js';

/** Where an unanswered page request of a PASID is: still on its way to or in the PRQ, or with the guest. */
type Waiting = { seq: number; where: 'queue' | 'guest'; whileBound?: boolean };

/**
 * A PASID is freed (or reused) only after unbind, cache flush and page-request drain completed
 * (DOMAIN.md §2.7, §6; bugs #10, #11):
 * - no binding left;
 * - no page request of the PASID unanswered anywhere: still on its way to or in the PRQ (one issued
 *   while the PASID was bound: the drain is owed by its unbind), or reported to the guest (with LPIG
 *   or PDP, so the device waits for an answer) and not answered, unless the drain answered it (issue 10 §5);
 * - no unbind of the PASID that recorded it did not drain (`svm.unbound` with `drained: false`) since
 *   the last one that did.
 */
export const drainBeforeReuse: Checker = {
  name: 'drain-before-reuse',
  check(h) {
    const out: Violation[] = [];
    const unanswered = new Map<number, Map<string, Waiting>>();
    const undrained = new Map<number, number>();
    const of = (pasid: number) => unanswered.get(pasid) ?? unanswered.set(pasid, new Map()).get(pasid)!;
    const lostIommu = new LostIommuDevices();
    // bindings of each PASID now: the drain is the unbind's (DOMAIN.md §2.6.5), owed for the requests
    // issued while it was bound; one issued on a PASID bound nowhere is answered INVALID by the PRQ thread
    const bindings = new Map<number, number>();
    for (const e of h.entries) {
      if (e.kind !== 'event') continue;
      lostIommu.observe(e);
      if (e.component === 'mdev-parent' && e.type === 'page_request.issued') {
        of(e.payload.pasid).set(`${e.payload.rid}:${e.payload.prg}`, { seq: e.seq, where: 'queue', whileBound: (bindings.get(e.payload.pasid) ?? 0) > 0 });
        continue;
      }
      if (e.component !== 'host-vtd') continue;
      switch (e.type) {
        case 'page_request.reported': {
          // with the guest now; one that needs no response (neither LPIG nor PDP) is done
          const p = e.payload;
          if (p.needsResponse) of(p.pasid).set(`${p.rid}:${p.prg}`, { seq: e.seq, where: 'guest' });
          else unanswered.get(p.pasid)?.delete(`${p.rid}:${p.prg}`);
          break;
        }
        // dropped, answered by the PRQ thread itself, by the guest, or by the drain
        case 'page_request.dropped':
        case 'page_response.sent':
        case 'fault.responded':
          unanswered.get(e.payload.pasid)?.delete(`${e.payload.rid}:${e.payload.prg}`);
          break;
        case 'svm.bound':
          bindings.set(e.payload.hpasid, (bindings.get(e.payload.hpasid) ?? 0) + 1);
          break;
        case 'svm.unbound':
          bindings.set(e.payload.hpasid, Math.max(0, (bindings.get(e.payload.hpasid) ?? 0) - 1));
          if (e.payload.drained) undrained.delete(e.payload.hpasid);
          else if (!e.payload.unwind) undrained.set(e.payload.hpasid, e.seq);
          break;
        case 'ioasid.freed': {
          const p = e.payload;
          if (p.set === 'host') break;
          // an mdev that lost its IOMMU device cannot be named to the IOMMU layer: VFIO's unbind skips
          // it, so neither the unbind nor its drain runs (every message below says so when it applies)
          const lost = p.bound.map((d) => lostIommu.lostVia(d, p.pasid)).filter((m): m is string => m !== undefined);
          const why = lost.length ? `${lostWhileBound(lost.join(', '))}, so VFIO could not unbind it` : '';
          const because = why ? `; ${why}` : '';
          if (p.bound.length) {
            out.push({ invariant: 'drain-before-reuse', message: `PASID ${p.pasid} left set ${p.set} while still bound on ${p.bound.join(', ')} (free before unbind${because})`, events: h.chain(e) });
          }
          const waiting = [...(unanswered.get(p.pasid)?.values() ?? [])];
          const queued = waiting.filter((w) => w.where === 'queue' && w.whileBound);
          const withGuest = waiting.filter((w) => w.where === 'guest');
          if (queued.length) {
            out.push({ invariant: 'drain-before-reuse', message: `PASID ${p.pasid} left set ${p.set} with ${queued.length} page request(s) of it not yet drained from the PRQ${because}`, events: sorted([e.seq, ...queued.map((w) => w.seq)]) });
          }
          if (withGuest.length) {
            out.push({ invariant: 'drain-before-reuse', message: `PASID ${p.pasid} left set ${p.set} with ${withGuest.length} page request(s) of it reported to the guest and never answered (${why || 'the drain did not answer them'})`, events: sorted([e.seq, ...withGuest.map((w) => w.seq)]) });
          }
          const unbound = undrained.get(p.pasid);
          if (unbound !== undefined) {
            out.push({ invariant: 'drain-before-reuse', message: `PASID ${p.pasid} left set ${p.set} after an unbind that did not drain its page requests`, events: sorted([unbound, e.seq]) });
          }
          unanswered.delete(p.pasid);
          undrained.delete(p.pasid);
          break;
        }
      }
    }
    return out;
  },
};
