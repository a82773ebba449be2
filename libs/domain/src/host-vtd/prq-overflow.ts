import { QI_RESP_SUCCESS } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { completeStep } from '../request-reply.js';
import { RATELIMIT_BURST } from './dmar-fault.js';
import { IOMMU } from './platform.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState, type Queued } from './state.js';

/**
 * A page request the PRQ has no room for (VT-d spec rev 5.10, 7.4.1 and its Table 31). When the queue
 * is full the hardware sets PRS_REG.PRO; while PRO is set it queues no page request at all ("PRQ
 * overflow"). Either way the request is not written to the queue, no fault is reported, and a request
 * with Last Page In Group gets a Page Group Response from the hardware itself, code Success; one
 * without LPIG gets none. VT-d 3.x also owed a response to a request with private data (PDP), which
 * the rev 5.10 descriptor no longer has: the model answers PDP as LPIG [M].
 *
 * The kernel's side, prq_event_thread at the end of a pass (policy vtd.drain_prq, vtd.kernel_log):
 * - before 66ac4db36f4c (v5.8; v1, v2) it never touches PRO: once set, the PRQ stays shut;
 * - from v5.8 it writes PRO clear after every pass, without a word (v3-v8);
 * - from 28a77185f1cd (v5.12-rc1) it reads head and tail again and clears PRO only when the queue is
 *   empty, with pr_info_ratelimited "PRQ overflow detected" and "PRQ overflow cleared" (mainline). A
 *   pass of the model empties the queue, so it always clears.
 */

/** Fault injection (a device_fault prq_overflow step): the next `count` page requests of `rid` find the queue full. */
export function prqFull(input: HostInputOf<'prq_full'>): HostOut[] {
  const p = input.payload;
  return [evt('prq.full', { rid: p.rid, count: p.count }), ...(typeof p.step === 'number' ? [completeStep(p.step, { ret: 0 })] : [])];
}

/** Whether the hardware drops this request: the queue is full for its device, or PRO is still set. */
export const overflows = (s: HostVtdState, req: Queued): boolean => s.pro || (s.prqFull[req.rid] ?? 0) > 0;

/** The hardware meets a request it cannot queue: PRO set, no descriptor written, LPIG (or PDP) answered Success. */
export function prqOverflow(s: HostVtdState, req: Queued): HostOut[] {
  const consumed = (s.prqFull[req.rid] ?? 0) > 0;
  const lpig = req.lpig || req.priv_data_present;
  const outs: HostOut[] = [
    evt('prq.overflow', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, lpig: req.lpig, pdp: req.priv_data_present, pro: s.pro ? 'already set' : 'set', consumed }),
  ];
  const why = s.pro ? 'PRQ overflow: PRS_REG.PRO is set' : 'PRQ full: PRS_REG.PRO set now';
  if (!lpig) return [...outs, evt('page_request.dropped', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, lpig: req.lpig, pdp: req.priv_data_present, why })];
  return [
    ...outs,
    evt('page_response.sent', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, code: 'SUCCESS', by: 'hardware', why }),
    cmd('mdev-parent', 'page_group_response', { rid: req.rid, pasid: req.pasid, prg: req.prg_index, code: QI_RESP_SUCCESS }),
  ];
}

/** The end of a PRQ thread pass that finds PRO set: what the host kernel does with it (see above). */
export function proCheck(s: HostVtdState): HostOut[] {
  if (!s.policy!['vtd.drain_prq']) return [];
  const cleared = evt('prq.pro_cleared', { why: 'prq_event_thread: head == tail after the pass' });
  // pr_info_ratelimited: each line its own burst; the model's burst is the passes since the last injection
  if (s.policy!['vtd.kernel_log'] === 'v5.10' || s.proPasses >= RATELIMIT_BURST) return [cleared];
  const info = (text: string) => evt('dmesg', { level: 'info', fn: 'prq_event_thread', text });
  return [info(`IOMMU: ${IOMMU}: PRQ overflow detected`), cleared, info(`IOMMU: ${IOMMU}: PRQ overflow cleared`)];
}
