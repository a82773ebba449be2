import { groupsOf, type VmSpec } from '../../contracts/src/index.js';
import type { Step } from './schema.js';

/** A problem of the file, at its field's path (`steps[3].group`). */
export interface Problem {
  path: Array<string | number>;
  message: string;
}

/**
 * The rules of manual setup, checked on the file before anything runs. The planner plays every setup
 * operation the topology does not mark `manual` before step 0 (libs/domain orchestrator/setup.ts); a
 * manual one is done by exactly one step of its own, and nothing may use what it makes before it:
 * - `mdev_create` names an mdev with `create: manual`; the mdev is not used (by a step, the workload,
 *   or its group's attach) before that step;
 * - `vfio_set_iommu` names a VM with `set_iommu: manual`; its groups attach after it (in the model an
 *   attach needs the container's IOMMU type: vfio_iommu_type1_attach_group runs once VFIO_SET_IOMMU
 *   gave it one), so they are manual too;
 * - `vfio_attach_group` names a group of that VM whose mdevs all say `attach: manual`;
 * - nothing is done twice (a second VFIO_SET_IOMMU or attach is not what a VMM does, and the model
 *   would replace the container or add a second domain for one group).
 */
export function setupProblems(s: { vms: VmSpec[]; steps: Step[]; workload: Array<{ mdev: string; from: number }> }): Problem[] {
  const out: Problem[] = [];
  const add = (path: Array<string | number>, message: string) => out.push({ path, message });
  const mdevs = new Map<string, { vm: VmSpec; path: Array<string | number>; manual: boolean }>();
  const vms = new Map<string, { vm: VmSpec; path: Array<string | number>; groups: ReturnType<typeof groupsOf> }>();
  s.vms.forEach((vm, i) => {
    vms.set(vm.id, { vm, path: ['vms', i], groups: groupsOf(vm) });
    vm.mdevs.forEach((m, j) => mdevs.set(m.id, { vm, path: ['vms', i, 'mdevs', j], manual: m.create === 'manual' }));
    // a group is attached once: its mdevs agree on who attaches it
    const manual = new Set(vm.mdevs.filter((m) => m.attach === 'manual').map((m) => m.group ?? m.id));
    vm.mdevs.forEach((m, j) => {
      const g = m.group ?? m.id;
      if (manual.has(g) && m.attach !== 'manual') {
        add(['vms', i, 'mdevs', j, 'attach'], `group '${g}' is attached by a step (another of its mdevs says attach: manual): say it of every mdev of the group, which is attached once`);
      }
    });
  });
  const gkey = (vm: string, g: string) => `${vm}/${g}`;
  /** the step that does each manual operation */
  const created = new Map<string, number>();
  const set = new Map<string, number>();
  const attached = new Map<string, number>();
  const notCreated = (mdev: string) => mdevs.get(mdev)?.manual === true && !created.has(mdev);

  s.steps.forEach((st, i) => {
    switch (st.op) {
      case 'mdev_create': {
        const m = mdevs.get(st.mdev);
        if (!m) return;
        if (!m.manual) add(['steps', i, 'mdev'], `mdev '${st.mdev}' is created in setup: say create: manual on it for a step to create it`);
        else if (created.has(st.mdev)) add(['steps', i, 'mdev'], `mdev '${st.mdev}' is already created by steps[${created.get(st.mdev)}]`);
        else created.set(st.mdev, i);
        return;
      }
      case 'vfio_set_iommu': {
        const v = vms.get(st.vm);
        if (!v) return;
        if (v.vm.set_iommu !== 'manual') add(['steps', i, 'vm'], `the container of VM '${st.vm}' is set in setup: say set_iommu: manual on the VM for a step to set it`);
        else if (set.has(st.vm)) add(['steps', i, 'vm'], `the container of VM '${st.vm}' is already set by steps[${set.get(st.vm)}]`);
        else set.set(st.vm, i);
        return;
      }
      case 'vfio_attach_group': {
        const v = vms.get(st.vm);
        if (!v) return;
        const g = v.groups.get(st.group);
        if (!g) {
          add(['steps', i, 'group'], `no group '${st.group}' in VM '${st.vm}' (its groups: ${[...v.groups.keys()].join(', ')}; an mdev's group is its own id unless it names one)`);
          return;
        }
        if (!g.manual) {
          add(['steps', i, 'group'], `group '${st.group}' of VM '${st.vm}' is attached in setup: say attach: manual on its mdevs (${g.mdevs.join(', ')}) for a step to attach it`);
          return;
        }
        const k = gkey(st.vm, st.group);
        if (attached.has(k)) {
          add(['steps', i, 'group'], `group '${st.group}' of VM '${st.vm}' is already attached by steps[${attached.get(k)}]`);
          return;
        }
        attached.set(k, i);
        if (v.vm.set_iommu === 'manual' && !set.has(st.vm)) {
          add(['steps', i, 'vm'], `the container of VM '${st.vm}' has no IOMMU type yet: its vfio_set_iommu step must come before the attach`);
        }
        for (const m of g.mdevs) if (notCreated(m)) add(['steps', i, 'group'], `mdev '${m}' of group '${st.group}' is not created yet: its mdev_create step must come before the attach`);
        return;
      }
      default:
        if ('mdev' in st && notCreated(st.mdev)) add(['steps', i, 'mdev'], `mdev '${st.mdev}' is not created yet (create: manual): its mdev_create step must come before`);
    }
  });

  // a manual operation that no step does, and setup that would run before what it needs
  for (const [id, m] of mdevs) if (m.manual && !created.has(id)) add([...m.path, 'create'], `create: manual, but no mdev_create step creates '${id}'`);
  for (const [id, v] of vms) {
    if (v.vm.set_iommu === 'manual' && !set.has(id)) add([...v.path, 'set_iommu'], `set_iommu: manual, but no vfio_set_iommu step sets the container of VM '${id}'`);
    const auto = [...v.groups].filter(([, g]) => !g.manual).map(([name]) => name);
    if (v.vm.set_iommu === 'manual' && auto.length) {
      add([...v.path, 'set_iommu'], `the container is set by a step, but group(s) ${auto.map((g) => `'${g}'`).join(', ')} would attach in setup, before it: say attach: manual on their mdevs and attach them after`);
    }
    for (const [name, g] of v.groups) {
      if (g.manual && !attached.has(gkey(id, name))) add([...mdevs.get(g.mdevs[0]!)!.path, 'attach'], `attach: manual, but no vfio_attach_group step attaches group '${name}' of VM '${id}'`);
      if (g.manual) continue;
      for (const m of g.mdevs) {
        if (mdevs.get(m)!.manual) add([...mdevs.get(m)!.path, 'create'], `'${m}' is created by a step, but its group '${name}' attaches in setup, before any step: say attach: manual on the group's mdevs and attach it after`);
      }
    }
  }
  s.workload.forEach((w, i) => {
    const at = created.get(w.mdev);
    // the workload's first op runs before step `from`
    if (mdevs.get(w.mdev)?.manual && at !== undefined && w.from <= at) {
      add(['workload', i, 'from'], `mdev '${w.mdev}' is created by steps[${at}]: the workload may start from ${at + 1}, after it`);
    }
  });
  return out;
}

