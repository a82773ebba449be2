import { answer, parked, resumed } from '../request-reply.js';
import { flushPiotlb, submitDevtlb } from './caches.js';
import { afterFlush } from './intel-svm-unbind-gpasid.js';
import { sourceId } from './platform.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState, type HostWait } from './state.js';

/**
 * qi_submit_sync's wait descriptor completing: a device answered the devTLB invalidation (caches.ts
 * devtlbFlush) a flush or a teardown parked on, which goes on now. Or the hardware reported an
 * Invalidation Time-out Error (ITE) instead: qi_check_fault aborts the pending wait descriptors and
 * returns -EAGAIN, and qi_submit_sync resubmits the same descriptors (DOMAIN.md §7.13). A device that
 * answers again (a device_fault ite of `count`) costs `count` resubmissions; a device that is gone
 * never answers: the CPU spins there for good (bug #16), unless the v6.9 qi_check_fault sees the
 * device is not present and gives up with -ETIMEDOUT (vtd.devtlb_skip_absent).
 */
export function devtlbDone(s: HostVtdState, input: HostInputOf<'devtlb_invalidate.ret'>): HostOut[] {
  const r = input.payload;
  const w = r.tag === null ? undefined : s.calls[r.tag];
  if (!w || r.tag === null) return [evt('ignored', { why: `devTLB completion for unknown wait ${r.tag}` })];
  const done = resumed(r.tag);
  if (r.ret >= 0) return [done, ...completed(s, input.id, w)];
  const rid = typeof r.detail?.rid === 'string' ? r.detail.rid : w.dev;
  const attempt = (w.ites ?? 0) + 1;
  const ite = [evt('qi.ite', { rid, pasid: w.pasid, attempt }), ...iteLog(s, rid)];
  const gone = r.detail?.absent === true || !!s.absent[rid];
  if (gone && s.policy!['vtd.devtlb_skip_absent']) {
    // 80a9b50c0b9e: the ITE's SID names a device that is not present: -ETIMEDOUT, which the flush's caller ignores
    return [done, ...ite, evt('qi.devtlb_timed_out', { rid, pasid: w.pasid, why: 'qi_check_fault: ITE SID not present, -ETIMEDOUT' }), ...completed(s, input.id, w)];
  }
  // (a parked wait always holds its descriptor; one without has nothing to resubmit and spins as well)
  if (gone || !w.desc) {
    return [
      done,
      ...ite,
      evt('qi.hung', { rid, fn: 'qi_submit_sync', why: 'ITE on an absent device, resubmitted forever (hard lockup)' }),
      // the CPU spins in qi_submit_sync with interrupts off: the NMI watchdog is what the console shows
      evt('dmesg', { level: 'emerg', fn: 'qi_submit_sync', text: 'watchdog: Watchdog detected hard LOCKUP on cpu 0' }),
      evt('dmesg', { level: 'emerg', fn: 'qi_submit_sync', text: 'RIP: 0010:qi_submit_sync' }),
    ];
  }
  // -EAGAIN: `goto restart`, the whole submission again; the drain's is [wait(FENCE), PIOTLB, devTLB] (§2.6.5)
  const again: HostOut[] = [evt('qi.resubmitted', { rid, pasid: w.pasid, attempt, why: 'qi_check_fault: ITE aborted the wait descriptor, -EAGAIN' })];
  if (w.kind === 'unbind' && w.stage === 'drain') again.push(flushPiotlb(s, s.pasidTable[w.dev]?.[w.pasid]?.did ?? 0, w.pasid, 'all', 'drain'));
  return [done, ...ite, ...again, ...submitDevtlb(input.id, w.desc), parked(input.id, { ...w, ites: attempt })];
}

/** The wait descriptor completed (or was given up): the flush or teardown goes on. */
function completed(s: HostVtdState, tag: string, w: HostWait): HostOut[] {
  const acks = w.acks - 1;
  if (acks > 0) return [parked(tag, { ...w, acks })];
  if (w.kind === 'inval') return [evt('qi.wait', { pasid: w.pasid, why: 'CACHE_INVLD', dev: w.dev }), evt('sva_invalidate.done', { vm: w.vm, dev: w.dev, pasid: w.pasid, ret: w.ret }), ...answer(w.caller, { ret: w.ret })];
  return afterFlush(s, tag, { ...w, acks });
}

/**
 * What the host kernel prints for an ITE (policy vtd.kernel_log). v5.10's qi_check_fault (dmar.c,
 * v5.10.13) clears DMA_FSTS_ITE and prints nothing. By v5.15 (v5.15.85) qi_dump_fault prints "VT-d
 * detected Invalidation Time-out Error: SID %llx" (the IQER_REG ITESID: the device's source id) and
 * the descriptors at the queue head and before it, then qi_check_fault pr_info's "Invalidation
 * Time-out Error (ITE) cleared". The QI HEAD/PRIOR dumps are left out: their qw1 is a kernel physical
 * address (the wait descriptor's status word) the model does not have.
 */
function iteLog(s: HostVtdState, rid: string): HostOut[] {
  if (s.policy!['vtd.kernel_log'] === 'v5.10') return [];
  return [
    evt('dmesg', { level: 'err', fn: 'qi_dump_fault', text: `DMAR: VT-d detected Invalidation Time-out Error: SID ${sourceId(rid).toString(16)}` }),
    evt('dmesg', { level: 'info', fn: 'qi_check_fault', text: 'DMAR: Invalidation Time-out Error (ITE) cleared' }),
  ];
}
