import { QI_RESP_FAILURE, QI_RESP_INVALID } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { completeStep } from '../request-reply.js';
import { IOMMU, sourceId } from './platform.js';
import { overflows, proCheck, prqOverflow } from './prq-overflow.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState, type Queued } from './state.js';

/**
 * The page-request queue: prq_event_thread reporting a device's page requests to the guest, or
 * answering them itself (bad_req). A reported request with LAST_PAGE waits for the guest's page
 * response in `pendingFaults` (intel-svm-page-response.ts).
 */

const canonical = (addr: number) => Number.isInteger(addr) && addr >= 0 && addr < 2 ** 47;

/** A request's two qwords as the kernel prints them ("%08llx %08llx"): page_req_dsc's bit fields. */
function words(req: Queued): string {
  const rid = sourceId(req.rid);
  // a malformed descriptor still prints: what is not a non-negative integer reads as 0
  const n = (x: unknown) => BigInt(Number.isSafeInteger(x) && (x as number) >= 0 ? (x as number) : 0);
  const b = (x: unknown, at: number) => (x ? 1n : 0n) << BigInt(at);
  const qw0 = 1n | b(req.pasid_present, 8) | b(req.priv_data_present, 9) | (BigInt(rid) << 16n) | ((n(req.pasid) & 0xfffffn) << 32n) | b(req.exe_req, 52) | b(req.pm_req, 53);
  const qw1 = b(req.rd_req, 0) | b(req.wr_req, 1) | b(req.lpig, 2) | ((n(req.prg_index) & 0x1ffn) << 3n) | (n(req.addr) & ~0xfffn & ((1n << 64n) - 1n));
  const hex = (x: bigint) => x.toString(16).padStart(8, '0');
  return `${hex(qw0)} ${hex(qw1)}`;
}

const pr = (level: 'err' | 'warn', text: string) => evt('dmesg', { level, fn: 'prq_event_thread', text });

/**
 * The thread's walk of svm->devs under RCU for the sdev whose sid is the request's RID. An sdev its
 * unbind has unlinked (list_del_rcu, before the teardown and the drain) is no longer on the list, so
 * a request the drain's pass handles finds none and is answered at bad_req, not reported to the guest.
 */
const sdevOf = (svm: HostVtdState['svm'][number], rid: string) => Object.values(svm.devs).find((d) => !d.unlinked && d.sid === rid);

/** Why the thread answers a request itself, the code it answers, and what it printed on the way. */
type Bad = { why: string; code: typeof QI_RESP_INVALID | typeof QI_RESP_FAILURE; log: HostOut[] };

/**
 * The v5.9-based thread of the v7/v8 tree (DOMAIN.md §7.11): result starts as FAILURE for a missing
 * or unknown PASID; after the svm is found it is INVALID, and `if (!svm->mm) goto bad_req` comes
 * before the guest report. v7 06/16 removed `svm->mm = get_task_mm()` from bind_gpasid, so every
 * guest-mode request (every svm the model binds) ends at bad_req: the guest never sees it.
 */
function v59Thread(s: HostVtdState, req: Queued): Bad {
  if (!req.pasid_present) return { why: 'no PASID', code: QI_RESP_FAILURE, log: [pr('err', `${IOMMU}: Page request without PASID: ${words(req)}`)] };
  const svm = s.svm[req.pasid];
  if (!svm) return { why: 'unknown PASID', code: QI_RESP_FAILURE, log: [pr('err', `${IOMMU}: Page request for invalid PASID ${req.pasid}: ${words(req)}`)] };
  // bad_req: WARN_ON(!sdev); the sdev lookup matches sdev->sid against the RID (bug #7: sid never set)
  const sdev = sdevOf(svm, req.rid);
  return { why: 'svm->mm is NULL (guest mode)', code: QI_RESP_INVALID, log: sdev ? [] : [pr('warn', 'WARNING: at drivers/iommu/intel/svm.c prq_event_thread (WARN_ON(!sdev))')] };
}

/** The ~v5.13+ thread (DOMAIN.md §2.6.1): each check answers INVALID, else null (report it). */
function reportingThread(s: HostVtdState, req: Queued): Bad | null {
  const bad = (why: string, printed?: string): Bad => ({
    why, code: QI_RESP_INVALID,
    // handle_bad_prq_event prints the descriptor after the check's own line
    log: [...(printed ? [pr('err', `IOMMU: ${IOMMU}: ${printed}`)] : []), pr('err', `${IOMMU}: Invalid page request: ${words(req)}`)],
  });
  if (!req.pasid_present) return bad('no PASID', 'Page request without PASID');
  if (!canonical(req.addr)) return bad('non-canonical address', 'Address is not canonical');
  if (req.pm_req && (req.rd_req || req.wr_req)) return bad('privileged-mode request with read/write', 'Page request in Privilege Mode');
  if (req.exe_req && req.rd_req) return bad('execute request with read', 'Execution request not supported');
  const svm = s.svm[req.pasid];
  if (!svm) return bad('unknown PASID');
  // the loop matches sdev->sid against the descriptor's RID (bug #7: sid never set)
  if (!sdevOf(svm, req.rid)) return bad(`no sdev with sid ${req.rid} for PASID ${req.pasid}`);
  return null;
}

/** prq_event_thread on one descriptor: report it to the guest, or answer it at bad_req. */
function handleOne(s: HostVtdState, req: Queued): HostOut[] {
  const bad = s.policy!['vtd.prq_report_guest'] ? reportingThread(s, req) : v59Thread(s, req);
  if (!bad) {
    const svm = s.svm[req.pasid]!;
    // intel_svm_prq_report sets LAST_PAGE for LPIG or PDP: the core queues such a fault (§7.12)
    const needsResponse = req.lpig || req.priv_data_present;
    return [
      evt('page_request.reported', { vm: svm.vm, rid: req.rid, mdev: req.mdev, pasid: req.pasid, addr: req.addr, prg: req.prg_index, lpig: req.lpig, pdp: req.priv_data_present, write: req.wr_req, needsResponse }),
      cmd('guest-viommu', 'iommu_report_device_fault', { vm: svm.vm, rid: req.rid, pasid: req.pasid, addr: req.addr, prg: req.prg_index, write: req.wr_req, lpig: req.lpig, pdp: req.priv_data_present }),
    ];
  }
  // a page group response only when LPIG, or PDP (bug #8 checked LPIG only)
  if (req.lpig || (req.priv_data_present && s.policy!['vtd.prq_respond_on_pdp'])) {
    return [
      ...bad.log,
      evt('page_response.sent', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, code: bad.code === QI_RESP_FAILURE ? 'FAILURE' : 'INVALID', by: 'prq_event_thread', why: bad.why }),
      cmd('mdev-parent', 'page_group_response', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, code: bad.code }),
    ];
  }
  return [...bad.log, evt('page_request.dropped', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, lpig: req.lpig, pdp: req.priv_data_present, why: bad.why })];
}

/**
 * One pass of the PRQ thread over the queue: head -> tail, then PQH = tail, then PRS_REG.PRO if set
 * (`pro`: as the hardware left it, which may be newer than the state).
 */
export function runPrqThread(s: HostVtdState, ring: Queued[], why: string, pro = s.pro): HostOut[] {
  if (!ring.length && !pro) return [];
  return [...ring.flatMap((r) => handleOne(s, r)), evt('prq.pass_done', { handled: ring.length, why }), ...(pro ? proCheck(s) : [])];
}

/**
 * A page request lands in the PRQ; the thread runs at once unless the interrupt is held (host.prq_irq
 * manual). One the queue has no room for is the hardware's (prq-overflow.ts): setting PRO raises the
 * page request event when neither PPR nor PRO was set, so the thread runs then too.
 */
export function pageRequest(s: HostVtdState, input: HostInputOf<'page_request'>): HostOut[] {
  const p = input.payload;
  const req: Queued = { ...p.req, mdev: p.mdev };
  if (overflows(s, req)) {
    const dropped = prqOverflow(s, req);
    if (s.pro || s.host?.prq_irq === 'manual') return dropped;
    return [...dropped, ...runPrqThread(s, s.prq, 'PRO interrupt', true)];
  }
  const queued = evt('prq.queued', { req, rid: req.rid, pasid: req.pasid, prg: req.prg_index, mdev: p.mdev });
  if (s.host?.prq_irq === 'manual') return [queued];
  return [queued, ...runPrqThread(s, [...s.prq, req], 'PPR interrupt')];
}

/** A prq_irq step: the held PPR interrupt fires, the thread runs one pass. */
export function prqIrq(s: HostVtdState, input: HostInputOf<'step.prq_irq'>): HostOut[] {
  return [...runPrqThread(s, s.prq, 'prq_irq step'), completeStep(input.payload.step, { ret: 0 })];
}
