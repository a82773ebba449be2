import { ERRNO, FAULT_REASON, PGTT_NESTED, PGTT_SL_ONLY, type FaultLevel } from '../../../contracts/src/index.js';
import { completeStep, reply } from '../request-reply.js';
import { dmarFault, type FaultRecord } from './dmar-fault.js';
import { pageOf } from '../topology.js';
import { evt, iotlbKey, memKey, type HostEvent, type HostInputOf, type HostOut, type HostVtdState, type PasidEntry } from './state.js';

/**
 * The DMA request path: a device's ATS translation request or its untranslated DMA with PASID,
 * through the PASID cache, the IOTLB and the nested walk (the hardware; no kernel function).
 */

export type Translation =
  | { ok: true; hpa: number; w: boolean; gpa: number; vm: string; did: number; source: 'iotlb' | 'walk'; outs: HostEvent[] }
  | { ok: false; reason: number; level: FaultLevel; fpd: boolean; vm: string | null; outs: HostEvent[] };

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
      for (const o of dmarFault(s, [{ rid: p.rid, pasid: p.pasid, va: p.va, write: !!p.write, reason: t.reason }])) outs.push(o);
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

/**
 * A PASID the IOMMU has no entry for on `rid`, neither in its PASID table nor in the PASID cache: the
 * highest below PASID_MAX. A request with it stops at the PASID-table entry, P=0 (fault reason 0x59),
 * whatever the preset, the bindings or FPD (an absent entry has none), and translates into no VM's memory.
 */
export function unmappedPasid(s: HostVtdState, rid: string): number {
  let pasid = s.pasidMax - 1;
  while (pasid > 0 && (s.pasidTable[rid]?.[pasid] || s.pasidCache[pasid]?.[rid])) pasid--;
  return pasid;
}

/**
 * A fault storm (a fault_storm step): the device issues `count` untranslated DMA reads, a page apart,
 * with a PASID the IOMMU has no entry for. Each is walked and faults non-recoverably (a fault record,
 * its reason); the fault event interrupt handles the records in one dmar_fault, whose ratelimit bounds
 * the lines (dmar-fault.ts). The hardware's FRCD registers are taken to keep up: every fault is
 * recorded, none lost to a primary fault overflow (PFO) [M].
 */
export function dmaRequestBurst(s: HostVtdState, input: HostInputOf<'dma_request_burst'>): HostOut[] {
  const p = input.payload;
  const pasid = unmappedPasid(s, p.rid);
  const outs: HostOut[] = [];
  const records: FaultRecord[] = [];
  for (let i = 0; i < p.count; i++) {
    const va = i * 4096;
    const t = translate(s, p.rid, pasid, va, false);
    for (const o of t.outs) outs.push(o);
    outs.push(translationEvent(p.rid, pasid, va, false, t, 'untranslated'));
    if (t.ok) continue;
    outs.push(evt('fault.recorded', { rid: p.rid, pasid, va, reason: t.reason, level: t.level, vm: t.vm, mdev: p.mdev, forwarded: false }));
    records.push({ rid: p.rid, pasid, va, write: false, reason: t.reason });
  }
  if (records.length) for (const o of dmarFault(s, records)) outs.push(o);
  return [...outs, ...(typeof p.step === 'number' ? [completeStep(p.step, { ret: 0 })] : [])];
}
