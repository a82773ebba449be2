import { ERRNO, FAULT_REASON, PGTT_NESTED, PGTT_SL_ONLY, type FaultLevel } from '../../../contracts/src/index.js';
import { reply } from '../request-reply.js';
import { pageOf } from '../topology.js';
import { evt, iotlbKey, memKey, type HostEvent, type HostInputOf, type HostOut, type HostVtdState, type PasidEntry } from './state.js';

/**
 * The DMA request path: a device's ATS translation request or its untranslated DMA with PASID,
 * through the PASID cache, the IOTLB and the nested walk (the hardware; no kernel function).
 */

export type Translation =
  | { ok: true; hpa: number; w: boolean; gpa: number; vm: string; did: number; source: 'iotlb' | 'walk'; outs: HostEvent[] }
  | { ok: false; reason: number; level: FaultLevel; fpd: boolean; vm: string | null; outs: HostEvent[] };

/** dmar_fault_do_one's line for a primary fault record with PASID (v5.9 wording, pr_fmt "DMAR: "). */
export const dmarFaultLine = (rid: string, pasid: number, va: number, write: boolean, reason: number): string =>
  `DMAR: [${write ? 'DMA Write' : 'DMA Read'} PASID ${hex(pasid)}] Request device [${rid}] fault addr ${hex(va)} [fault reason ${String(reason).padStart(2, '0')}]`;
// a queue payload is checked before a decider sees it, but a decider never throws on one that was not
const hex = (n: unknown): string => (typeof n === 'number' ? n.toString(16) : String(n));

/** A device's translation request (ATS) or untranslated DMA: the nested walk, faults recorded unless FPD. */
export function dmaRequest(s: HostVtdState, input: HostInputOf<'ats_translate' | 'dma_request'>): HostOut[] {
  const p = input.payload;
  const via = input.type === 'ats_translate' ? 'ats' : 'untranslated';
  const t = translate(s, p.rid, p.pasid, p.va, !!p.write);
  const outs: HostOut[] = [...t.outs, translationEvent(p.rid, p.pasid, p.va, !!p.write, t, via)];
  if (t.ok) return [...outs, ...reply(input, { ret: 0, value: { hpa: t.hpa, w: t.w, gpa: t.gpa, vm: t.vm } })];
  const dev = s.devices[p.rid];
  // a first-stage miss from a device with ATS+PRI is recoverable: it answers with a page request
  const recoverable = via === 'ats' && !!dev?.pri && t.level === 'first-stage';
  if (!recoverable) {
    if (t.fpd) outs.push(evt('fault.suppressed', { rid: p.rid, pasid: p.pasid, va: p.va, reason: t.reason, why: 'FPD set in the PASID entry' }));
    else {
      outs.push(evt('fault.recorded', { rid: p.rid, pasid: p.pasid, va: p.va, reason: t.reason, level: t.level, vm: t.vm, mdev: p.mdev, forwarded: t.level !== 'second-stage' }));
      outs.push(evt('dmesg', { level: 'err', fn: 'dmar_fault_do_one', text: dmarFaultLine(p.rid, p.pasid, p.va, !!p.write, t.reason) }));
    }
  }
  return [...outs, ...reply(input, { ret: -ERRNO.EFAULT, detail: { reason: t.reason, level: t.level, recoverable } })];
}

/**
 * A DMA request with PASID through the nested walk (DOMAIN.md §2.5): PASID entry (from the PASID
 * cache if it holds one), IOTLB by DID + PASID + page, else the guest's first-level table from FLPTR
 * and the host's second level (the VM's RAM mapping). A cached answer is returned as cached, stale or not.
 */
export function translate(s: HostVtdState, rid: string, pasid: number, va: number, write: boolean): Translation {
  const outs: HostEvent[] = [];
  const page = pageOf(va);
  if (!s.devices[rid]) return { ok: false, reason: 2, level: 'context', fpd: false, vm: null, outs };
  let entry: PasidEntry | undefined = s.pasidCache[pasid]?.[rid];
  if (!entry) {
    entry = s.pasidTable[rid]?.[pasid];
    if (entry?.p) outs.push(evt('pasid_cache.filled', { rid, pasid, did: entry.did, entry }));
  }
  if (!entry || !entry.p) return { ok: false, reason: FAULT_REASON.PASID_ENTRY_P, level: 'pasid', fpd: !!entry?.fpd, vm: entry?.vm ?? null, outs };
  if ((entry.pgtt !== PGTT_NESTED && entry.pgtt !== PGTT_SL_ONLY) || !entry.vm) return { ok: false, reason: FAULT_REASON.PASID_ENTRY_INV, level: 'pasid', fpd: entry.fpd, vm: entry.vm ?? null, outs };
  const vm = entry.vm;
  const cached = s.iotlb[iotlbKey(entry.did, pasid)]?.[page];
  if (cached) {
    if (write && !cached.w) return { ok: false, reason: FAULT_REASON.WRITE, level: 'first-stage', fpd: entry.fpd, vm, outs };
    return { ok: true, hpa: cached.hpa, w: cached.w, gpa: cached.gpa, vm: cached.vm, did: entry.did, source: 'iotlb', outs };
  }
  let gpa = page;
  let w = true;
  if (entry.pgtt === PGTT_NESTED) {
    const pte = s.mem[memKey(vm, pageOf(entry.flptr))]?.[page];
    if (!pte) return { ok: false, reason: FAULT_REASON.FS_ENTRY_P, level: 'first-stage', fpd: entry.fpd, vm, outs };
    if (write && !pte.w) return { ok: false, reason: FAULT_REASON.WRITE, level: 'first-stage', fpd: entry.fpd, vm, outs };
    gpa = pte.gpa;
    w = pte.w;
  }
  const ram = s.vms[vm];
  // every first-level pointer and the final GPA go through the host second level (the VM's RAM)
  if (!ram || gpa >= ram.ram) return { ok: false, reason: FAULT_REASON.SS_ENTRY_P, level: 'second-stage', fpd: entry.fpd, vm, outs };
  const hpa = ram.base + gpa;
  outs.push(evt('iotlb.filled', { did: entry.did, pasid, page, hpa, w, gpa, vm }));
  return { ok: true, hpa, w, gpa, vm, did: entry.did, source: 'walk', outs };
}

/** The event that records a translation's answer: what the checkers compare with the tables. */
export function translationEvent(rid: string, pasid: number, va: number, write: boolean, t: Translation, via: 'ats' | 'untranslated'): HostEvent {
  if (t.ok) return evt('translation.done', { rid, pasid, va, page: pageOf(va), write, hpa: t.hpa, w: t.w, gpa: t.gpa, vm: t.vm, did: t.did, source: t.source, via });
  return evt('translation.fault', { rid, pasid, va, page: pageOf(va), write, reason: t.reason, level: t.level, fpd: t.fpd, vm: t.vm, via });
}
