import { ERRNO, type InputTo } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { completeStep } from '../request-reply.js';
import { evt, type MdevParentState } from './state.js';

type In<T extends string> = InputTo<'mdev-parent'> & { type: T };

/**
 * Fault injection on a physical parent (a device_fault step, the chaos runner's): the model's own
 * events, recorded and replayed like any other.
 * - `ite`: the device lets its next `count` ATS Invalidates time out, then answers again (a device
 *   that stalls for a while: devtlb-invalidate.ts); the host retries each (host-vtd qi.ts);
 * - `prq_overflow`: the host's PRQ has no room for the device's next `count` page requests (host-vtd
 *   prq-overflow.ts), which the host records and completes the step.
 * A parent that is gone, or not behind the IOMMU (no devTLB invalidations, no PRQ), answers -ENODEV.
 */
export function deviceFault(s: MdevParentState, input: In<'step.device_fault'>) {
  const p = input.payload;
  const parent = s.parents[p.parent];
  if (!parent || s.absent[parent.id] || parent.kind !== 'iommu-backed' || !parent.rid) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  const injected = evt('device.fault_injected', { parent: parent.id, rid: parent.rid, fault: p.fault, count: p.count });
  if (p.fault === 'ite') return [injected, completeStep(p.step, { ret: 0 })];
  return [injected, cmd('host-vtd', 'prq_full', { rid: parent.rid, count: p.count, step: p.step })];
}

/**
 * A fault storm (a fault_storm step): the mdev's device issues `count` DMA requests with a PASID the
 * IOMMU has no entry for, each a non-recoverable fault (host-vtd dma-walk.ts dmaRequestBurst picks the
 * PASID: the host knows which have entries). The host records the faults and completes the step. A
 * non-IOMMU mdev's DMA goes to pinned pages, with no IOMMU to fault in: -ENODEV, as for a gone device.
 */
export function faultStorm(s: MdevParentState, input: In<'step.fault_storm'>) {
  const p = input.payload;
  const m = s.mdevs[p.mdev];
  if (!m || m.removed) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  const parent = s.parents[m.parent]!;
  if (s.absent[parent.id] || parent.kind !== 'iommu-backed' || !parent.rid) return [completeStep(p.step, { ret: -ERRNO.ENODEV })];
  return [
    evt('fault_storm.issued', { mdev: p.mdev, vm: m.vm, rid: parent.rid, count: p.count }),
    cmd('host-vtd', 'dma_request_burst', { rid: parent.rid, mdev: p.mdev, count: p.count, step: p.step }),
  ];
}
