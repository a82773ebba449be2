import { prgKey, sorted, type Checker, type Violation } from './types.js';

/**
 * Every page request with LPIG or PDP set gets exactly one response, routed to the right device and
 * PASID; a request of a (RID, PASID) bound in guest mode goes to its VM, not answered INVALID by
 * the host (DOMAIN.md §6; bugs #7, #8). A request left pending by a guest that ignores faults, or
 * whose PASID was torn down or device removed after it was issued, is not the host's to answer; one
 * still in the page request queue when the run ends, the PRQ interrupt held (host.prq_irq manual) and
 * no pass of prq_event_thread since, is not due yet: the history stops before the host could answer.
 */
export const pageResponse: Checker = {
  name: 'page-response',
  check(h) {
    const out: Violation[] = [];
    const open = new Map<string, { seq: number; rid: string; pasid: number; prg: number }>();
    const excused = new Set<string>();
    const bound = new Set<string>();
    // requests in the PRQ that no pass of the thread has reached yet
    const queued = new Set<string>();
    // how many more requests a device issued with a PRG index still outstanding
    const reused = new Map<string, number>();
    for (const e of h.entries) {
      if (e.kind !== 'event') continue;
      if (e.component === 'mdev-parent') {
        if (e.type === 'page_request.issued') {
          const p = e.payload;
          if (!p.needsResponse) continue;
          const k = prgKey(p);
          // a device that reuses a PRG index still outstanding breaks PRI's rule, not the host: each
          // of its requests is answered, and the second answer finds nothing outstanding (UPRGI)
          if (open.has(k)) reused.set(k, (reused.get(k) ?? 0) + 1);
          open.set(k, { seq: e.seq, rid: p.rid, pasid: p.pasid, prg: p.prg });
        } else if (e.type === 'page_response.received') {
          const p = e.payload;
          const k = prgKey(p);
          const extra = reused.get(k) ?? 0;
          if (!p.matched && extra > 0) reused.set(k, extra - 1);
          else if (!p.matched) out.push({ invariant: 'page-response', message: `device ${p.rid} got a response for PRG ${p.prg} of PASID ${p.pasid} that it has no outstanding request for`, events: h.chain(e) });
          open.delete(k);
        } else if (e.type === 'device.removed') for (const k of open.keys()) if (k.startsWith(`${e.payload.rid}:`)) excused.add(k);
      } else if (e.component === 'guest-viommu' && e.type === 'guest_fault.pending') excused.add(prgKey(e.payload));
      else if (e.component === 'host-vtd') {
        if (e.type === 'prq.queued') queued.add(prgKey(e.payload));
        else if (e.type === 'prq.pass_done') queued.clear();
        else if (e.type === 'svm.bound') bound.add(`${e.payload.dev}:${e.payload.hpasid}`);
        // from the unlink on, the drain's passes answer the device's requests INVALID (no sdev): that is the unbind's
        else if (e.type === 'svm.sdev_unlinked') bound.delete(`${e.payload.dev}:${e.payload.hpasid}`);
        else if (e.type === 'svm.unbound') {
          const p = e.payload;
          bound.delete(`${p.dev}:${p.hpasid}`);
          for (const k of open.keys()) if (k.startsWith(`${p.dev}:${p.hpasid}:`)) excused.add(k);
        } else if (e.type === 'page_response.sent') {
          const p = e.payload;
          if (p.by === 'prq_event_thread' && (p.why === 'unknown PASID' || p.why?.startsWith('no sdev')) && bound.has(`${p.rid}:${p.pasid}`)) {
            out.push({ invariant: 'page-response', message: `page request PRG ${p.prg} of (${p.rid}, PASID ${p.pasid}) is bound in guest mode, yet the host answered it INVALID (${p.why}) instead of reporting it to the VM`, events: sorted([...h.chain(e), open.get(prgKey(p))?.seq]) });
          }
        }
      }
    }
    for (const [key, r] of open) {
      if (excused.has(key) || queued.has(key)) continue;
      out.push({ invariant: 'page-response', message: `page request PRG ${r.prg} of (${r.rid}, PASID ${r.pasid}) with LPIG/PDP never got a response`, events: [r.seq] });
    }
    return out;
  },
};
