import { ERRNO, IOMMU_PAGE_RESP_PASID_VALID, QI_RESP_INVALID, type ErrnoName } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { completeStep, reply } from '../request-reply.js';
import { evt, faultKey, type HostInputOf, type HostOut, type HostVtdState, type Queued } from './state.js';

/**
 * The page-request queue: prq_event_thread reporting a device's page requests to the guest (or
 * answering the bad ones itself), and intel_svm_page_response forwarding the guest's page response.
 * A reported request waits for the guest's response in `pendingFaults`: domain state, not a parked
 * call, since no request of the host is answered by it.
 */

const canonical = (addr: number) => Number.isInteger(addr) && addr >= 0 && addr < 2 ** 47;

/** prq_event_thread's verdict on one descriptor (DOMAIN.md §2.6.1-2). */
function handleOne(s: HostVtdState, req: Queued): HostOut[] {
  let why: string | null = null;
  if (!req.pasid_present) why = 'no PASID';
  else if (!canonical(req.addr)) why = 'non-canonical address';
  else if (req.pm_req && (req.rd_req || req.wr_req)) why = 'privileged-mode request with read/write';
  else if (req.exe_req && req.rd_req) why = 'execute request with read';
  const svm = why ? undefined : s.svm[req.pasid];
  if (!why && !svm) why = 'unknown PASID';
  // the loop matches sdev->sid against the descriptor's RID (bug #7: sid never set)
  const sdev = svm && Object.values(svm.devs).find((d) => d.sid === req.rid);
  if (!why && !sdev) why = `no sdev with sid ${req.rid} for PASID ${req.pasid}`;
  if (!why && svm!.guestMode) {
    const needsResponse = req.lpig || req.priv_data_present;
    return [
      evt('page_request.reported', { vm: svm!.vm, rid: req.rid, mdev: req.mdev, pasid: req.pasid, addr: req.addr, prg: req.prg_index, lpig: req.lpig, pdp: req.priv_data_present, write: req.wr_req, needsResponse }),
      cmd('guest-viommu', 'iommu_report_device_fault', { vm: svm!.vm, rid: req.rid, pasid: req.pasid, addr: req.addr, prg: req.prg_index, write: req.wr_req, lpig: req.lpig, pdp: req.priv_data_present }),
    ];
  }
  // bad_req: a response only when LPIG, or PDP (bug #8 checked LPIG only)
  if (req.lpig || (req.priv_data_present && s.policy!['vtd.prq_respond_on_pdp'])) {
    return [
      evt('page_response.sent', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, code: 'INVALID', by: 'prq_event_thread', why }),
      cmd('mdev-parent', 'page_group_response', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, code: QI_RESP_INVALID }),
    ];
  }
  return [evt('page_request.dropped', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, lpig: req.lpig, pdp: req.priv_data_present, why })];
}

/** One pass of the PRQ thread over the queue: head -> tail, then PQH = tail. */
export function runPrqThread(s: HostVtdState, ring: Queued[], why: string): HostOut[] {
  if (!ring.length) return [];
  return [...ring.flatMap((r) => handleOne(s, r)), evt('prq.pass_done', { handled: ring.length, why })];
}

/** A page request lands in the PRQ; the thread runs at once unless the interrupt is held (host.prq_irq manual). */
export function pageRequest(s: HostVtdState, input: HostInputOf<'page_request'>): HostOut[] {
  const p = input.payload;
  const req: Queued = { ...p.req, mdev: p.mdev };
  const queued = evt('prq.queued', { req, rid: req.rid, pasid: req.pasid, prg: req.prg_index, mdev: p.mdev });
  if (s.host?.prq_irq === 'manual') return [queued];
  return [queued, ...runPrqThread(s, [...s.prq, req], 'PPR interrupt')];
}

/** intel_svm_page_response behind iommu_page_response (DOMAIN.md §2.6.4). */
export function intelSvmPageResponse(s: HostVtdState, input: HostInputOf<'iommu_page_response'>): HostOut[] {
  const p = input.payload;
  const no = (errno: ErrnoName, why: string) => [evt('page_response.rejected', { vm: p.vm, rid: p.rid, errno, why, pasid: p.msg?.pasid ?? null }), ...reply(input, { ret: -ERRNO[errno] })];
  if (!s.devices[p.rid]) return no('ENODEV', 'not PCI, or no IOMMU');
  const m = p.msg;
  if (!m || typeof m !== 'object' || m.version !== 1 || !Number.isInteger(m.flags) || m.flags & ~IOMMU_PAGE_RESP_PASID_VALID) return no('EINVAL', 'bad iommu_page_response (version or flags)');
  if (!(m.flags & IOMMU_PAGE_RESP_PASID_VALID) || !Number.isInteger(m.pasid) || m.pasid <= 0 || m.pasid >= s.pasidMax) return no('EINVAL', 'PASID not valid, 0, or >= PASID_MAX');
  if (!Number.isInteger(m.grpid) || ![0, 1, 2].includes(m.code)) return no('EINVAL', 'bad grpid or code');
  const pending = s.pendingFaults[faultKey(p.rid, m.pasid, m.grpid)];
  if (!pending) return no('EINVAL', 'no pending fault for this group');
  const svm = s.svm[m.pasid];
  // the driver's checks; guest-mode svm: current->mm must be the binder's mm
  const refused = !svm || !svm.devs[p.rid] ? 'no svm or sdev' : svm.guestMode && svm.vm !== p.vm ? `current->mm (VM ${p.vm}) is not the svm's mm (VM ${svm.vm})` : null;
  if (refused) {
    // iommu_page_response: list_del of the pending fault whatever the driver returned (DOMAIN.md §7.12):
    // a response from the wrong VM consumes the owner's fault, whose own response then finds none
    return [evt('fault.discarded', { vm: pending.vm, rid: p.rid, pasid: m.pasid, prg: m.grpid, errno: 'ENODEV', why: refused }), ...no('ENODEV', refused)];
  }
  const out: HostOut[] = [evt('fault.responded', { vm: p.vm, rid: p.rid, pasid: m.pasid, prg: m.grpid })];
  if (pending.needsResponse) {
    out.push(evt('page_response.sent', { rid: p.rid, pasid: m.pasid, prg: m.grpid, code: (['SUCCESS', 'INVALID', 'FAILURE'] as const)[m.code] ?? String(m.code), by: 'guest', vm: p.vm }));
    // intel_svm_page_response passes msg->code through: FAILURE goes out as 2 (§7.12)
    out.push(cmd('mdev-parent', 'page_group_response', { rid: p.rid, pasid: m.pasid, prg: m.grpid, code: m.code }));
  }
  return [...out, ...reply(input, { ret: 0 })];
}

/** A prq_irq step: the held PPR interrupt fires, the thread runs one pass. */
export function prqIrq(s: HostVtdState, input: HostInputOf<'step.prq_irq'>): HostOut[] {
  return [...runPrqThread(s, s.prq, 'prq_irq step'), completeStep(input.payload.step, { ret: 0 })];
}
