import { sorted, type Checker, type Violation } from './types.js';

/**
 * One VM cannot make another's PASID allocation fail (DOMAIN.md §6, bug #13): an allocation that
 * failed because the shared host PASID space was exhausted, while the VM was under its own quota and
 * another VM held more PASIDs than it, is a violation. Failures at the VM's own quota are its own
 * business, and so is the space a VM exhausted itself: the one holding the most is not starved.
 */
export const pasidQuota: Checker = {
  name: 'pasid-quota',
  check(h) {
    const out: Violation[] = [];
    const quota = Number(h.policy()['vfio.pasid_quota'] ?? 1000);
    const held = new Map<string, Set<number>>();
    const lastAlloc = new Map<string, number>();
    for (const e of h.entries) {
      if (e.kind !== 'event' || e.component !== 'vfio-type1') continue;
      if (e.type === 'pasid.allocated') {
        const p = e.payload;
        (held.get(p.vm) ?? held.set(p.vm, new Set()).get(p.vm)!).add(p.pasid);
        lastAlloc.set(p.vm, e.seq);
      } else if (e.type === 'pasid.freed') held.get(e.payload.vm)?.delete(e.payload.pasid);
      else if (e.type === 'pasid_request.rejected' && e.payload.space && e.payload.range && e.payload.range[0] <= 1 && e.payload.range[1] >= 0xfffff) {
        const p = e.payload;
        // only a request for any PASID at all: a VM asking for a narrow range may find it taken
        const mine = held.get(p.vm)?.size ?? 0;
        const others = [...held.entries()].filter(([vm, s]) => vm !== p.vm && s.size > mine);
        if (mine < quota && others.length) {
          out.push({
            invariant: 'pasid-quota',
            message: `VM ${p.vm} holds ${mine} of its quota of ${quota} PASIDs, yet its allocation failed: the shared PASID space is held by ${others.map(([vm, s]) => `${vm} (${s.size})`).join(', ')}`,
            events: sorted([e.seq, ...h.chain(e), ...others.map(([vm]) => lastAlloc.get(vm))]),
          });
        }
      }
    }
    return out;
  },
};
