import { sorted, type Checker, type EventEntry, type Violation } from './types.js';

/**
 * A bind that fails leaves the bindings as they were: none newly bound, none torn down (bug #2);
 * and one (device, PASID) is bound through one domain only (bug #6) (DOMAIN.md §6 bind-atomic).
 */
export const bindAtomic: Checker = {
  name: 'bind-atomic',
  check(h) {
    const out: Violation[] = [];
    for (const e of h.events('host-vtd', 'svm.users_inc')) {
      const p = e.payload;
      if (p.domain !== p.boundDomain) {
        out.push({ invariant: 'bind-atomic', message: `(${p.dev}, PASID ${p.hpasid}) bound through domain ${p.domain} while already bound through domain ${p.boundDomain}: one PASID entry, one second-level table, two domains`, events: h.chain(e) });
      }
    }
    // host binding changes per guest operation
    const changes = new Map<string, EventEntry<'host-vtd', 'svm.bound' | 'svm.unbound' | 'svm.users_inc' | 'svm.users_dec'>[]>();
    for (const type of ['svm.bound', 'svm.unbound', 'svm.users_inc', 'svm.users_dec'] as const) {
      for (const e of h.events('host-vtd', type)) {
        const list = changes.get(e.correlationId) ?? [];
        list.push(e);
        changes.set(e.correlationId, list);
      }
    }
    for (const fin of h.events('vfio-type1', 'nesting_op.finished')) {
      const f = fin.payload;
      if (f.op !== 'bind' || f.ret >= 0 || f.oops) continue;
      const net = new Map<string, { n: number; seqs: number[] }>();
      for (const c of changes.get(fin.correlationId) ?? []) {
        const p = c.payload;
        const k = `${p.dev} PASID ${p.hpasid}`;
        const d = net.get(k) ?? { n: 0, seqs: [] };
        d.n += c.type === 'svm.bound' || c.type === 'svm.users_inc' ? 1 : -1;
        d.seqs.push(c.seq);
        net.set(k, d);
      }
      for (const [k, d] of net) {
        if (d.n === 0) continue;
        out.push({
          invariant: 'bind-atomic',
          message: `BIND_PGTBL of VM ${f.vm} failed (${f.ret}) but ${d.n > 0 ? `left (${k}) bound` : `tore down the existing binding of (${k})`}`,
          events: sorted([fin.seq, ...d.seqs]),
        });
      }
    }
    return out;
  },
};
