import type { LogEntry } from '../../contracts/src/index.js';
import { payload, sorted, type Checker, type Violation } from './types.js';

/**
 * Bind, unbind, invalidate and page response on a PASID succeed only for the VM whose IOASID set
 * owns it (DOMAIN.md §6, bug #12). Owners come from the host allocator's events, in log order.
 */
export const pasidOwnership: Checker = {
  name: 'pasid-ownership',
  check(h) {
    const out: Violation[] = [];
    const owner = new Map<number, { set: string; seq: number }>();
    const relevant = new Set(['ioasid.allocated', 'ioasid.freed', 'svm.bound', 'svm.users_inc', 'svm.unbound', 'sva_invalidate.done', 'page_response.sent']);
    const flag = (e: LogEntry, vm: string, pasid: number, what: string) => {
      const o = owner.get(pasid);
      if (!o || o.set === vm || o.set === 'host') return;
      out.push({ invariant: 'pasid-ownership', message: `${what} of PASID ${pasid} succeeded for VM ${vm}, but the PASID belongs to ${o.set}`, events: sorted([o.seq, ...h.chain(e)]) });
    };
    for (const e of h.entries) {
      if (e.kind !== 'event' || e.component !== 'host-vtd' || !relevant.has(e.type)) continue;
      const p = payload<{ set?: string; pasid?: number; hpasid?: number; vm?: string; ret?: number; by?: string; unwind?: boolean }>(e);
      switch (e.type) {
        case 'ioasid.allocated':
          owner.set(p.pasid!, { set: p.set!, seq: e.seq });
          break;
        case 'ioasid.freed':
          owner.delete(p.pasid!);
          break;
        case 'svm.bound':
        case 'svm.users_inc':
          flag(e, p.vm!, p.hpasid!, 'bind');
          break;
        case 'svm.unbound':
          if (!p.unwind) flag(e, p.vm!, p.hpasid!, 'unbind');
          break;
        case 'sva_invalidate.done':
          if (p.ret === 0 && p.pasid) flag(e, p.vm!, p.pasid, 'cache invalidation');
          break;
        case 'page_response.sent':
          if (p.by === 'guest') flag(e, p.vm!, p.pasid!, 'page response');
          break;
      }
    }
    return out;
  },
};
