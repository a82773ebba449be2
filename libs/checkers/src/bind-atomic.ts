import { BIND_PGTBL, obj, opOf } from './uapi-rules/index.js';
import { sorted, type Checker, type EventEntry, type History, type Violation } from './types.js';

/**
 * A bind that fails leaves the bindings as they were: none newly bound, none torn down (bug #2);
 * one (device, PASID) is bound through one domain only (bug #6); and a bind that reports success has
 * bound every device of every group of the container (DOMAIN.md §6 bind-atomic, §2.2.4).
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
    return [...out, ...successBindsAll(h)];
  },
};

/**
 * BIND_PGTBL answered 0 (a guest `bind` through QEMU, or the VMM's own ioctl_bind): the host bound the
 * hpasid on every device VFIO's walk covers, each device of each group in an IOMMU domain of the VM's
 * nesting containers (group.attached in domain_list with nesting_info, until its container is released),
 * by an svm.bound, or an svm.users_inc where aux binds share one (bug #6 policy), of this operation.
 */
function successBindsAll(h: History): Violation[] {
  const out: Violation[] = [];
  const replies = new Map(h.commands('guest-viommu', 'VFIO_IOMMU_NESTING_OP.ret').filter((r) => r.component === 'vfio-type1').map((r) => [r.payload.re, r]));
  const bound = [...h.events('host-vtd', 'svm.bound'), ...h.events('host-vtd', 'svm.users_inc')];
  const attached = h.events('vfio-type1', 'group.attached');
  const released = h.events('vfio-type1', 'container.released');
  for (const io of h.commands('vfio-type1', 'VFIO_IOMMU_NESTING_OP')) {
    const reply = replies.get(io.eventId);
    const op = obj(io.payload.op);
    if (io.component !== 'guest-viommu' || !reply || reply.payload.ret !== 0 || reply.payload.oops || opOf(op) !== BIND_PGTBL) continue;
    const { vm } = io.payload;
    const hpasid = obj(op.data).hpasid;
    const live = attached.filter((g) => g.payload.vm === vm && g.seq < io.seq && g.payload.where === 'domain_list' && g.payload.nesting_info
      && !released.some((r) => r.payload.container === g.payload.container && r.seq > g.seq && r.seq < io.seq));
    const ofThisBind = bound.filter((b) => b.correlationId === io.correlationId && b.seq > io.seq && b.seq < reply.seq && b.payload.hpasid === hpasid);
    for (const g of live) {
      for (const dev of g.payload.devices) {
        if (ofThisBind.some((b) => (b.payload.mdev ?? b.payload.dev) === dev)) continue;
        out.push({
          invariant: 'bind-atomic',
          message: `BIND_PGTBL of VM ${vm} (hpasid ${String(hpasid)}) returned 0 but ${dev} of group ${g.payload.group} (container ${g.payload.container}) was not bound`,
          events: sorted([io.seq, g.seq, reply.seq]),
        });
      }
    }
  }
  return out;
}
