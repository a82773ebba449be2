import { answer } from '../request-reply.js';
import { cmd, evt, replyLegacy as reply, type Output, type Ret } from '../decider.js';
import type { Component, Envelope } from '../../../contracts/src/index.js';
import type { HostCaller, HostVtdState, HostWait } from './state.js';

/**
 * A devTLB invalidation descriptor (DEIOTLB, type 8) sent to the device through QI; the wait
 * descriptor that follows completes only when the device answers, so the caller parks.
 * Returns the outputs and whether a completion is awaited.
 */
export function devtlbFlush(s: HostVtdState, input: Envelope, sid: string, pasid: number, range: { first: number; npages: number } | 'all', why: string): { outs: Output[]; awaited: boolean } {
  const desc = { sid, pasid, addr: range === 'all' ? 0 : range.first * 4096, npages: range === 'all' ? -1 : range.npages, size: range === 'all' ? 'S=1 (all)' : `${range.npages} pages`, why };
  // 80a9b50c0b9e, 4fc82cd907ac: never wait on an absent device's ATS (bug #16)
  if (s.absent[sid] && s.policy!['vtd.devtlb_skip_absent']) return { outs: [evt('qi.devtlb_skipped', { ...desc, because: 'pci_device_is_present() is false' })], awaited: false };
  return {
    outs: [evt('qi.devtlb', desc), cmd('mdev-parent', 'devtlb_invalidate', { rid: sid, pasid, first: range === 'all' ? 0 : range.first, npages: range === 'all' ? null : range.npages, tag: input.id })],
    awaited: true,
  };
}

export const callerOfHost = (input: Envelope): HostCaller => {
  const p = input.payload as { tag?: unknown; noreply?: boolean };
  return { to: input.from, type: input.type, re: input.id, tag: p?.tag ?? null, noreply: !!p?.noreply };
};

/** Reply to the parked caller (unless it said it does not wait). */
export function answerCaller(c: HostCaller, r: Ret): Output[] {
  if (c.noreply) return [];
  if (c.to === 'orchestrator' && typeof (c as { step?: number }).step === 'number') return [cmd('orchestrator', 'step.completed', { step: (c as { step?: number }).step!, outcome: r })];
  return answer({ kind: 'call', to: c.to as Component, type: c.type, re: c.re, tag: c.tag as string | null, noreply: false }, r);
}

export const park = (input: Envelope, w: HostWait): Output => evt('qi.wait_parked', { tag: input.id, wait: w });

export { reply };
