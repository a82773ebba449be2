import { FAULT_REASON, PAGE_SIZE } from '../../../contracts/src/index.js';
import { evt, type HostOut, type HostVtdState } from './state.js';

/**
 * dmar_fault, the fault event interrupt: it reads FSTS_REG, then walks the primary fault recording
 * registers (FRCD) and prints each record with dmar_fault_do_one (drivers/iommu/intel/dmar.c, read in
 * v5.10.13 and v5.15.85). Both prints share one `static DEFINE_RATELIMIT_STATE(rs,
 * DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST)`: 10 lines per 5 s, the status line included;
 * a ratelimited record is cleared unprinted. The model has no clock: one invocation (one DMA's fault,
 * or a whole fault storm) is one burst in one interval, and the next invocation starts a new interval,
 * where ___ratelimit first says how many were swallowed ("dmar_fault: N callbacks suppressed").
 */

/** DEFAULT_RATELIMIT_BURST (include/linux/ratelimit_types.h). */
export const RATELIMIT_BURST = 10;

/** A primary fault record as dmar_fault reads it back: source id, PASID, page address, request type, reason. */
export interface FaultRecord {
  rid: string;
  pasid: number;
  va: number;
  write: boolean;
  reason: number;
}

/**
 * dmar_get_fault_reason's strings for the reasons the model produces (dma_remap_fault_reasons and
 * dma_remap_sm_fault_reasons, identical in v5.10 and v5.15); any other code reads "Unknown" as there.
 */
const REASONS: Record<number, string> = {
  2: 'Present bit in context entry is clear',
  [FAULT_REASON.WRITE]: 'PTE Write access is not set',
  [FAULT_REASON.READ]: 'PTE Read access is not set',
  [FAULT_REASON.SS_ENTRY_P]: 'Next page table ptr is invalid',
  [FAULT_REASON.PASID_DIR_ACCESS]: 'SM: Error attempting to access the PASID Directory Entry',
  [FAULT_REASON.PASID_DIR_P]: 'SM: Present bit in Directory Entry is clear',
  [FAULT_REASON.PASID_TABLE_ACCESS]: 'SM: Error attempting to access PASID Table Entry',
  [FAULT_REASON.PASID_ENTRY_P]: 'SM: Present bit in PASID Table Entry is clear',
  [FAULT_REASON.PASID_ENTRY_INV]: 'SM: Invalid Scalable-Mode PASID Table Entry',
  [FAULT_REASON.FS_ACCESS]: 'SM: Error attempting to access first-level paging entry',
  [FAULT_REASON.FS_ENTRY_P]: 'SM: Present bit in first-level paging entry is clear',
  [FAULT_REASON.FS_NON_CANONICAL]: 'SM: Address in first-level translation is not canonical',
};

// a queue payload is checked before a decider sees it, but a decider never throws on one that was not
const hex = (n: unknown): string => (typeof n === 'number' ? n.toString(16) : String(n));

/**
 * dmar_fault_do_one's line for a DMA-remapping record with PASID, in the host kernel's wording
 * (policy vtd.kernel_log), pr_fmt "DMAR: ". The address is the record's page address (dma_frcd_page_addr).
 */
export function dmarFaultLine(s: HostVtdState, f: FaultRecord): string {
  const type = f.write ? 'DMA Write' : 'DMA Read';
  const reason = REASONS[f.reason] ?? 'Unknown';
  const addr = Math.floor(f.va / PAGE_SIZE) * PAGE_SIZE;
  if (s.policy!['vtd.kernel_log'] === 'v5.10') {
    return `DMAR: [${type}] Request device [${f.rid}] PASID ${hex(f.pasid)} fault addr ${hex(addr)} [fault reason ${String(f.reason).padStart(2, '0')}] ${reason}`;
  }
  return `DMAR: [${type} PASID 0x${hex(f.pasid)}] Request device [${f.rid}] fault addr 0x${hex(addr)} [fault reason 0x${hex(f.reason).padStart(2, '0')}] ${reason}`;
}

/** DMA_FSTS_PPF: a primary fault is pending; the fault record index (FRI, bits 15:8) is 0, the first record. */
const FSTS_PPF = 0x2;

/** One dmar_fault invocation over the fault records the hardware logged: its lines, ratelimited. */
export function dmarFault(s: HostVtdState, records: FaultRecord[]): HostOut[] {
  const outs: HostOut[] = [];
  const err = (fn: string, text: string) => evt('dmesg', { level: 'err', fn, text });
  // a new interval: ___ratelimit reports the previous burst's misses first, at KERN_WARNING, naming its caller
  if (s.dmarSuppressed) outs.push(evt('dmesg', { level: 'warn', fn: 'dmar_fault', text: `dmar_fault: ${s.dmarSuppressed} callbacks suppressed` }));
  let budget = RATELIMIT_BURST;
  if (budget-- > 0) outs.push(err('dmar_fault', `DMAR: DRHD: handling fault status reg ${hex(FSTS_PPF)}`));
  let printed = 1;
  for (const f of records) {
    if (budget-- <= 0) continue;
    outs.push(err('dmar_fault_do_one', dmarFaultLine(s, f)));
    printed++;
  }
  return [...outs, evt('dmar_fault.handled', { records: records.length, printed, suppressed: 1 + records.length - printed })];
}
