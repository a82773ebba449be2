import { ERRNO, type InputTo, type PageRequest } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { completeStep } from '../request-reply.js';
import { evt, type MdevParentState } from './state.js';

/**
 * The device's PRI (PCIe Page Request Interface): a page request descriptor sent to the IOMMU's PRQ,
 * posted: nothing answers the request itself (the page group response comes later, page-group-response.ts).
 */
export function pageReq(rid: string, pasid: number, va: number, write: boolean, lpig: boolean, pdp: boolean, prg: number, extra: Partial<PageRequest> = {}): PageRequest {
  return { rid, pasid_present: true, pasid, addr: va, rd_req: !write, wr_req: write, exe_req: false, pm_req: false, lpig, prg_index: prg, priv_data_present: pdp, ...extra };
}

export function issuePr(mdev: string, vm: string, req: PageRequest, dma: string | null) {
  return [
    evt('page_request.issued', { mdev, vm, rid: req.rid, pasid: req.pasid, addr: req.addr, prg: req.prg_index, lpig: req.lpig, pdp: req.priv_data_present, pasid_present: req.pasid_present, needsResponse: req.lpig || req.priv_data_present, dma }),
    cmd('host-vtd', 'page_request', { req, mdev }),
  ];
}

/** A scenario's page request: posted, so the step completes once it is sent; the response comes later. */
export function stepPageRequest(s: MdevParentState, input: InputTo<'mdev-parent'> & { type: 'step.page_request' }) {
  const p = input.payload;
  const m = s.mdevs[p.mdev];
  if (!m || m.removed) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  const parent = s.parents[m.parent]!;
  if (parent.kind !== 'iommu-backed' || !parent.pri || s.absent[parent.id]) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  const prg = p.prg ?? s.nextPrg[parent.rid!] ?? 0;
  const req = pageReq(parent.rid!, p.pasid, p.va, !!p.write, p.lpig !== false, !!p.pdp, prg, { pasid_present: p.pasid_present !== false, pm_req: !!p.pm_req, exe_req: !!p.exe_req });
  return [...issuePr(p.mdev, m.vm, req, null), completeStep(p.step, { ret: 0, value: prg })];
}
