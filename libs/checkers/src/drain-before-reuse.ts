import { sorted, type Checker, type Violation } from './types.js';

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
    for (const e of h.entries) {
      if (e.kind !== 'event') continue;
      if (e.component === 'mdev-parent' && e.type === 'page_request.issued') {
        const p = e.payload;
        (inFlight.get(p.pasid) ?? inFlight.set(p.pasid, new Map()).get(p.pasid)!).set(`${p.rid}:${p.prg}`, e.seq);
      } else if (e.component !== 'host-vtd') continue;
      // handled: reported to the VM, dropped, or answered by the PRQ thread itself
      else if (e.type === 'page_request.reported' || e.type === 'page_request.dropped' || (e.type === 'page_response.sent' && e.payload.by === 'prq_event_thread')) {
        inFlight.get(e.payload.pasid)?.delete(`${e.payload.rid}:${e.payload.prg}`);
      } else if (e.type === 'ioasid.freed' && e.payload.set !== 'host') {
        const p = e.payload;
        if (p.bound.length) {
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
