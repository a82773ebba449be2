import type { Component } from '../../../contracts/src/index.js';
import type { Scenario, Step } from '../../../scenario/src/schema.js';

/** One step of a run: the topology's setup first, then the scenario's steps. */
export interface PlannedStep {
  index: number;
  phase: 'setup' | 'scenario';
  /** index in the scenario file's `steps`, for reports */
  scenarioIndex?: number;
  op: string;
  target: Component;
  args: Record<string, unknown>;
  expect?: Step['expect'];
  as?: string;
}

const TARGET: Record<string, Component> = {
  pasid_alloc: 'guest-viommu',
  pasid_free: 'guest-viommu',
  bind: 'guest-viommu',
  unbind: 'guest-viommu',
  iotlb_invalidate: 'guest-viommu',
  mdev_create: 'mdev-parent',
  mdev_clear_iommu_device: 'mdev-parent',
  vfio_set_iommu: 'vfio-type1',
  vfio_attach_group: 'vfio-type1',
};

export function targetOf(op: string): Component {
  const t = TARGET[op];
  if (!t) throw new Error(`no component handles step op '${op}'`);
  return t;
}

/**
 * Setup mirrors what the host does before the guest runs: the parent drivers create the mdevs
 * (IOMMU-backed ones call mdev_set_iommu_device), then each VM's container is set to the nesting
 * type and its groups are attached (vfio_iommu_type1_attach_group).
 */
export function planRun(sc: Scenario): PlannedStep[] {
  const steps: Omit<PlannedStep, 'index'>[] = [];
  for (const vm of sc.vms) for (const m of vm.mdevs) {
    steps.push({ phase: 'setup', op: 'mdev_create', target: 'mdev-parent', args: { mdev: m.id, parent: m.parent, vm: vm.id } });
  }
  for (const vm of sc.vms) {
    steps.push({ phase: 'setup', op: 'vfio_set_iommu', target: 'vfio-type1', args: { vm: vm.id, nesting: vm.nesting } });
    const groups = new Map<string, string[]>();
    for (const m of vm.mdevs) {
      const g = m.group ?? m.id;
      groups.set(g, [...(groups.get(g) ?? []), m.id]);
    }
    for (const [group, mdevs] of groups) {
      steps.push({ phase: 'setup', op: 'vfio_attach_group', target: 'vfio-type1', args: { vm: vm.id, group, mdevs } });
    }
  }
  sc.steps.forEach((st, i) => {
    const { op, expect, note: _note, ...rest } = st as Step & { as?: string };
    const as = 'as' in rest ? (rest.as as string | undefined) : undefined;
    if ('as' in rest) delete (rest as Record<string, unknown>).as;
    steps.push({ phase: 'scenario', scenarioIndex: i, op, target: targetOf(op), args: rest, expect, as });
  });
  return steps.map((s, index) => ({ ...s, index }));
}
