import type { LogEntry } from '../../contracts/src/index.js';
import { unsupportedInvalidations } from './unsupported-invalidations.js';
import { sorted, type Checker, type Violation } from './types.js';

/**
 * Bind, unbind, invalidate and page response on a PASID succeed only for the VM whose IOASID set
 * owns it (DOMAIN.md §6, bug #12). Owners come from the host allocator's events, in log order.
 */
export const pasidOwnership: Checker = {
  name: 'pasid-ownership',
  check(h) {
    const out: Violation[] = [];
    const owner = new Map<number, { set: string; seq: number }>();
    // invalidation calls (by correlation) whose type x granularity the driver's map left unsupported
    const unsupported = unsupportedInvalidations(h);
    const flag = (e: LogEntry, vm: string, pasid: number, what: string, why = '') => {
      const o = owner.get(pasid);
      if (!o || o.set === vm || o.set === 'host') return;
      out.push({ invariant: 'pasid-ownership', message: `${what} of PASID ${pasid} succeeded for VM ${vm}, but the PASID belongs to ${o.set}${why}`, events: sorted([o.seq, ...h.chain(e)]) });
    };
    for (const e of h.entries) {
      if (e.kind !== 'event' || e.component !== 'host-vtd') continue;
      switch (e.type) {
        case 'ioasid.allocated':
          owner.set(e.payload.pasid, { set: e.payload.set, seq: e.seq });
          break;
        case 'ioasid.freed':
          owner.delete(e.payload.pasid);
          break;
        case 'svm.bound':
        case 'svm.users_inc':
          flag(e, e.payload.vm, e.payload.hpasid, 'bind');
          break;
        case 'svm.unbound':
          if (!e.payload.unwind) flag(e, e.payload.vm, e.payload.hpasid, 'unbind');
          break;
        case 'sva_invalidate.done': {
          // the ownership check (ioasid_find) comes inside the loop after the granularity check: an
          // unsupported cell breaks out first with ret 0 (DOMAIN.md §7.8, bug #5), nothing flushed
          const u = unsupported.get(e.correlationId);
          const why = u ? ` (the invalidation was ${u}, unsupported: the loop broke with 0 before ioasid_find, nothing flushed, bug #5)` : '';
          if (e.payload.ret === 0 && e.payload.pasid) flag(e, e.payload.vm, e.payload.pasid, 'cache invalidation', why);
          break;
        }
        case 'page_response.sent':
          // the guest's response names its VM (host-vtd prq.ts); the PRQ thread's and the drain's are the host's own
          if (e.payload.by === 'guest' && e.payload.vm !== undefined) flag(e, e.payload.vm, e.payload.pasid, 'page response');
          break;
      }
    }
    return out;
  },
};
