import { payload, sorted, type Checker, type Violation } from './types.js';

/**
 * A PASID is freed (or reused) only after unbind, cache flush and page-request drain completed
 * (DOMAIN.md §2.7, §6; bugs #10, #11): no binding left, no page request of the PASID still on its
 * way to or waiting in the PRQ.
 */
export const drainBeforeReuse: Checker = {
  name: 'drain-before-reuse',
  check(h) {
    const out: Violation[] = [];
    const inFlight = new Map<number, Map<string, number>>();
    const HANDLED = new Set(['page_request.reported', 'page_response.sent', 'page_request.dropped']);
    for (const e of h.entries) {
      if (e.kind !== 'event') continue;
      const p = payload<{ rid: string; pasid: number; prg: number; by?: string; set?: string; bound?: string[] }>(e);
      if (e.component === 'mdev-parent' && e.type === 'page_request.issued') {
        (inFlight.get(p.pasid) ?? inFlight.set(p.pasid, new Map()).get(p.pasid)!).set(`${p.rid}:${p.prg}`, e.seq);
      } else if (e.component === 'host-vtd' && HANDLED.has(e.type) && (e.type !== 'page_response.sent' || p.by === 'prq_event_thread')) {
        inFlight.get(p.pasid)?.delete(`${p.rid}:${p.prg}`);
      } else if (e.component === 'host-vtd' && e.type === 'ioasid.freed' && p.set !== 'host') {
        if (p.bound?.length) {
          out.push({ invariant: 'drain-before-reuse', message: `PASID ${p.pasid} left set ${p.set} while still bound on ${p.bound.join(', ')} (free before unbind)`, events: h.chain(e) });
        }
        const pending = inFlight.get(p.pasid);
        if (pending?.size) {
          out.push({ invariant: 'drain-before-reuse', message: `PASID ${p.pasid} left set ${p.set} with ${pending.size} page request(s) of it not yet drained from the PRQ`, events: sorted([e.seq, ...pending.values()]) });
        }
      }
    }
    return out;
  },
};
