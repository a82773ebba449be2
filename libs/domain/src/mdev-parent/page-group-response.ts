import { ERRNO, type InputTo } from '../../../contracts/src/index.js';
import { completeStep } from '../request-reply.js';
import { pageOf } from '../topology.js';
import { translateReq } from './dma.js';
import { evt, prgKey, type MdevParentState } from './state.js';

/**
 * The page group response to a page request (PRI) reaching the device. A DMA that turned its
 * translation fault into the request waits for it as device state (`dma.waiting_prg`), not as a
 * call: the response is not the reply of a request (the host may never send one).
 */
/** A DMA waiting on it retries once, or faults. */
export function groupResponse(s: MdevParentState, input: InputTo<'mdev-parent'> & { type: 'page_group_response' }) {
  const p = input.payload;
  const key = prgKey(p.rid, p.pasid, p.prg);
  const out = s.outstanding[key];
  const got = evt('page_response.received', { rid: p.rid, pasid: p.pasid, prg: p.prg, code: p.code, matched: !!out, mdev: out?.mdev ?? null });
  if (!out?.dma) return [got];
  const dma = s.dmas[out.dma];
  if (!dma) return [got];
  const m = s.mdevs[dma.mdev]!;
  const parent = s.parents[m.parent]!;
  // the end of the DMA's dma.waiting_prg (device state, not a call)
  const back = evt('dma.resumed', { tag: out.dma });
  if (p.code === 0) return [got, back, ...translateReq(input.id, { ...dma, retried: true, poisoned: false }, parent.ats)];
  return [
    got, back,
    evt('dma.faulted', { mdev: dma.mdev, vm: m.vm, rid: dma.rid, pasid: dma.pasid, va: dma.va, page: pageOf(dma.va), write: dma.write, reason: 'page response not SUCCESS' }),
    completeStep(dma.step, { ret: -ERRNO.EFAULT }),
  ];
}
