import type { PlannedStep, RunSpec, StepSpec } from '../../libs/contracts/src/index.js';
import { targetOf } from '../../libs/domain/src/orchestrator/plan.js';

// The planner as it was before a scenario could do setup operations in its own steps (planRun of
// libs/domain/src/orchestrator/plan.ts at 43b03f3, verbatim but for its name): the reference that
// plan.unit.test.ts holds every scenario without manual setup to, so none of them plans differently.

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
 * Setup mirrors what the host does before the guest runs: the parent drivers create the mdevs
 * (IOMMU-backed ones call mdev_set_iommu_device), then each VM's container is set to the nesting
 * type and its groups are attached (vfio_iommu_type1_attach_group).
 */
export function planBefore(sc: RunSpec): PlannedStep[] {
  const steps: Omit<PlannedStep, 'index'>[] = [];
  for (const vm of sc.vms) for (const m of vm.mdevs) {
    steps.push({ phase: 'setup', op: 'mdev_create', target: 'mdev-parent', args: { mdev: m.id, parent: m.parent, vm: vm.id } });
  }
  for (const vm of sc.vms) {
    steps.push({ phase: 'setup', op: 'vfio_set_iommu', target: 'vfio-type1', args: { vm: vm.id, nesting: vm.nesting } });
    const groups = new Map<string, string[]>();
    for (const m of vm.mdevs) {
      const g = m.group ?? m.id;
      const list = groups.get(g);
      if (list) list.push(m.id);
      else groups.set(g, [m.id]);
    }
    for (const [group, mdevs] of groups) {
      steps.push({ phase: 'setup', op: 'vfio_attach_group', target: 'vfio-type1', args: { vm: vm.id, group, mdevs } });
    }
  }
  const work = workloadAt(sc);
  // one push per step, never push(...list): a workload expands to tens of thousands of ops at one
  // position, and a spread passes each as an argument on the stack (200,000 overflowed it, issue 8)
  const pushAll = (list: Omit<PlannedStep, 'index'>[] | undefined) => {
    if (list) for (const w of list) steps.push(w);
  };
  sc.steps.forEach((st, i) => {
    pushAll(work.get(i));
    const { op, expect, note: _note, background, as, ...rest }: StepSpec = st;
    steps.push({ phase: 'scenario', scenarioIndex: i, op, target: targetOf(op), args: rest, expect, as, ...(background ? { background: true } : {}) });
  });
  pushAll(work.get(sc.steps.length));
  return steps.map((s, index) => ({ ...s, index }));
}
