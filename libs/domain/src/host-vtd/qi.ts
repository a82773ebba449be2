import { answer, parked, resumed } from '../request-reply.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState } from './state.js';
import { afterFlush } from './intel-svm-unbind-gpasid.js';

/**
 * qi_submit_sync's wait descriptor completing: a device answered the devTLB invalidation (caches.ts
 * devtlbFlush) a flush or a teardown parked on, which goes on now.
 */
export function devtlbDone(s: HostVtdState, input: HostInputOf<'devtlb_invalidate.ret'>): HostOut[] {
  const r = input.payload;
  const w = r.tag === null ? undefined : s.calls[r.tag];
  if (!w || r.tag === null) return [evt('ignored', { why: `devTLB completion for unknown wait ${r.tag}` })];
  const done = resumed(r.tag);
  if (r.ret < 0) {
    // ITE: the pending wait is aborted, qi_submit_sync resubmits (-EAGAIN), the device never answers (bug #16)
    const rid = typeof r.detail?.rid === 'string' ? r.detail.rid : w.dev;
    return [
      done,
      evt('qi.ite', { rid, pasid: w.pasid }),
      evt('qi.hung', { rid, fn: 'qi_submit_sync', why: 'ITE on an absent device, resubmitted forever (hard lockup)' }),
      // the CPU spins in qi_submit_sync with interrupts off: the NMI watchdog is what the console shows
      evt('dmesg', { level: 'emerg', fn: 'qi_submit_sync', text: 'watchdog: Watchdog detected hard LOCKUP on cpu 0' }),
      evt('dmesg', { level: 'emerg', fn: 'qi_submit_sync', text: 'RIP: 0010:qi_submit_sync' }),
    ];
  }
  const acks = w.acks - 1;
  if (acks > 0) return [done, parked(input.id, { ...w, acks })];
  if (w.kind === 'inval') return [done, evt('qi.wait', { pasid: w.pasid, why: 'CACHE_INVLD' }), evt('sva_invalidate.done', { vm: w.vm, dev: w.dev, pasid: w.pasid, ret: w.ret }), ...answer(w.caller, { ret: w.ret })];
  return [done, ...afterFlush(s, input.id, { ...w, acks })];
}
