import { groupsOf, type PlannedStep, type RunSpec } from '../../../contracts/src/index.js';

type Planned = Omit<PlannedStep, 'index'>;

/**
 * The host's setup before the guest runs, as the planner plays it: the parent drivers create the
 * mdevs (IOMMU-backed ones call mdev_set_iommu_device), then each VM's container is set to its type
 * (VFIO_SET_IOMMU) and its groups are attached (vfio_iommu_type1_attach_group). An operation the
 * scenario marks `manual` is left out: a step of the scenario does it, where the file puts it.
 */
export function setupSteps(sc: RunSpec): Planned[] {
  const steps: Planned[] = [];
  for (const vm of sc.vms) for (const m of vm.mdevs) {
    if (m.create === 'manual') continue;
    steps.push({ phase: 'setup', op: 'mdev_create', target: 'mdev-parent', args: { mdev: m.id, parent: m.parent, vm: vm.id } });
  }
  for (const vm of sc.vms) {
    if (vm.set_iommu !== 'manual') steps.push({ phase: 'setup', op: 'vfio_set_iommu', target: 'vfio-type1', args: { vm: vm.id, nesting: vm.nesting } });
    for (const [group, g] of groupsOf(vm)) {
      if (!g.manual) steps.push({ phase: 'setup', op: 'vfio_attach_group', target: 'vfio-type1', args: { vm: vm.id, group, mdevs: g.mdevs } });
    }
  }
  return steps;
}

/**
 * The arguments of a setup operation a scenario step does itself: the file names the mdev, the VM or
 * the (VM, group); the rest comes from the topology, as setupSteps takes it. Other ops: as written.
 * The loader has checked every name; a RunSpec built elsewhere with a wrong one is a program error.
 */
export function setupArgs(sc: RunSpec, op: string, args: Record<string, unknown>): Record<string, unknown> {
  const fail = (what: string) => new Error(`step ${op}: ${what} (the scenario loader checks this)`);
  switch (op) {
    case 'mdev_create': {
      for (const vm of sc.vms) for (const m of vm.mdevs) if (m.id === args.mdev) return { mdev: m.id, parent: m.parent, vm: vm.id };
      throw fail(`no mdev '${String(args.mdev)}'`);
    }
    case 'vfio_set_iommu': {
      const vm = sc.vms.find((v) => v.id === args.vm);
      if (!vm) throw fail(`no VM '${String(args.vm)}'`);
      return { vm: vm.id, nesting: vm.nesting };
    }
    case 'vfio_attach_group': {
      const vm = sc.vms.find((v) => v.id === args.vm);
      const g = vm && typeof args.group === 'string' ? groupsOf(vm).get(args.group) : undefined;
      if (!vm || !g) throw fail(`no group '${String(args.group)}' in VM '${String(args.vm)}'`);
      // `container`: the step names the container the group goes to (VFIO_GROUP_SET_CONTAINER on that one)
      return { vm: vm.id, group: args.group, mdevs: g.mdevs, ...(typeof args.container === 'string' ? { container: args.container } : {}) };
    }
    default:
      return args;
  }
}
