import type { Component, PlannedStep, RunSpec, StepSpec } from '../../../contracts/src/index.js';
import { setupArgs, setupSteps } from './setup.js';

/** One step of a run (its type is the log's: contracts, beside the orchestrator's events). */
export type { PlannedStep };

const TARGET: Record<string, Component> = {
  pasid_alloc: 'guest-viommu',
  pasid_free: 'guest-viommu',
  bind: 'guest-viommu',
  unbind: 'guest-viommu',
  iotlb_invalidate: 'guest-viommu',
  ioctl_pasid_request: 'guest-viommu',
  ioctl_bind: 'guest-viommu',
  ioctl_unbind: 'guest-viommu',
  ioctl_invalidate: 'guest-viommu',
  guest_map: 'host-vtd',
  guest_unmap: 'host-vtd',
  prq_irq: 'host-vtd',
  mdev_create: 'mdev-parent',
  mdev_clear_iommu_device: 'mdev-parent',
  dma: 'mdev-parent',
  page_request: 'mdev-parent',
  pin_pages: 'mdev-parent',
  mdev_remove: 'mdev-parent',
  device_remove: 'mdev-parent',
  device_fault: 'mdev-parent',
  fault_storm: 'mdev-parent',
  vfio_set_iommu: 'vfio-type1',
  vfio_attach_group: 'vfio-type1',
  dma_unmap: 'vfio-type1',
  vm_teardown: 'vfio-type1',
  quiesce: 'orchestrator',
};

export function targetOf(op: string): Component {
  const t = TARGET[op];
  if (!t) throw new Error(`no component handles step op '${op}'`);
  return t;
}

/** The workload's ops, each placed before the scenario step it runs beside (index = steps.length: at the end). */
function workloadAt(sc: RunSpec): Map<number, Omit<PlannedStep, 'index'>[]> {
  const at = new Map<number, Omit<PlannedStep, 'index'>[]>();
  const pagesPer = 4096;
  sc.workload.forEach((w, wi) => {
    for (let k = 0; k < w.count; k++) {
      const pos = Math.min(w.from + k, sc.steps.length);
      const va = w.va + (k % w.pages) * pagesPer;
      const args: Record<string, unknown> = { mdev: w.mdev, pasid: w.pasid, va, write: w.write };
      if (w.op === 'page_request') Object.assign(args, { lpig: true, pdp: false, pasid_present: true, pm_req: false, exe_req: false });
      const list = at.get(pos) ?? [];
      list.push({ phase: 'workload', scenarioIndex: wi, op: w.op, target: targetOf(w.op), args, background: true });
      at.set(pos, list);
    }
  });
  return at;
}

/**
 * The run's plan: the host's setup (setup.ts: what the scenario does not do in its own steps), then
 * the scenario's steps with the workload woven in.
 */
export function planRun(sc: RunSpec): PlannedStep[] {
  const steps = setupSteps(sc);
  const work = workloadAt(sc);
  // one push per step, never push(...list): a workload expands to tens of thousands of ops at one
  // position, and a spread passes each as an argument on the stack (200,000 overflowed it, issue 8)
  const pushAll = (list: Omit<PlannedStep, 'index'>[] | undefined) => {
    if (list) for (const w of list) steps.push(w);
  };
  sc.steps.forEach((st, i) => {
    pushAll(work.get(i));
    const { op, expect, note: _note, background, as, ...rest }: StepSpec = st;
    steps.push({ phase: 'scenario', scenarioIndex: i, op, target: targetOf(op), args: setupArgs(sc, op, rest), expect, as, ...(background ? { background: true } : {}) });
  });
  pushAll(work.get(sc.steps.length));
  return steps.map((s, index) => ({ ...s, index }));
}
