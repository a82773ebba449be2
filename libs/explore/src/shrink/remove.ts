import { clone, type Obj, type ScenarioDoc } from '../../../scenario/src/index.js';

/** The `$variables` a step or workload entry reads (pasid, hpasid, gpasid). */
const varsRead = (o: Obj): string[] => Object.values(o).filter((v): v is string => typeof v === 'string' && v.startsWith('$')).map((v) => v.slice(1));

/**
 * The doc without the steps and workload entries `drop` picks, and without everything that reads a
 * variable one of them bound (`as:`): a step goes with its users, else the candidate would not parse.
 * A workload entry keeps its place among the steps that remain (`from` counts the steps before it).
 */
export function without(doc: ScenarioDoc, drop: { step?: (st: Obj, i: number) => boolean; workload?: (w: Obj, i: number) => boolean }): ScenarioDoc {
  const gone = new Set<string>();
  const keptAt: number[] = [];
  const steps: Obj[] = [];
  doc.steps.forEach((st, i) => {
    if (drop.step?.(st, i) || varsRead(st).some((v) => gone.has(v))) {
      if (typeof st.as === 'string') gone.add(st.as);
      return;
    }
    keptAt.push(i);
    steps.push(st);
  });
  const out = clone(doc);
  out.steps = clone(steps);
  if (doc.workload) {
    out.workload = clone(doc.workload)
      .filter((w, i) => !drop.workload?.(w, i) && !varsRead(w).some((v) => gone.has(v)))
      .map((w) => (typeof w.from === 'number' ? { ...w, from: keptAt.filter((i) => i < (w.from as number)).length } : w));
    if (!out.workload.length) delete out.workload;
  }
  return out;
}

/** Without the steps at these indices (and their users). */
export const withoutSteps = (doc: ScenarioDoc, idx: ReadonlySet<number>): ScenarioDoc => without(doc, { step: (_st, i) => idx.has(i) });

const groupOf = (m: Obj) => (m.group ?? m.id) as string;

/**
 * Without these mdevs: the steps and workload that name them, a group's attach step once the group
 * has no mdev left, and a VM left with no mdev (with its steps).
 */
export function withoutMdevs(doc: ScenarioDoc, ids: ReadonlySet<string>): ScenarioDoc {
  const emptied = new Set<string>();
  const vmsGone = new Set<string>();
  for (const vm of doc.vms) {
    const left = vm.mdevs.filter((m) => !ids.has(m.id as string));
    const groupsLeft = new Set(left.map(groupOf));
    for (const m of vm.mdevs) if (!groupsLeft.has(groupOf(m))) emptied.add(`${vm.id}/${groupOf(m)}`);
    if (!left.length) vmsGone.add(vm.id as string);
  }
  const out = without(doc, {
    step: (st) => ids.has(st.mdev as string) || vmsGone.has(st.vm as string) || (st.op === 'vfio_attach_group' && emptied.has(`${st.vm}/${st.group}`)),
    workload: (w) => ids.has(w.mdev as string),
  });
  out.vms = out.vms.filter((vm) => !vmsGone.has(vm.id as string)).map((vm) => ({ ...vm, mdevs: vm.mdevs.filter((m) => !ids.has(m.id as string)) }));
  return out;
}

/** Without a VM: its mdevs and every step that names it or them. */
export function withoutVm(doc: ScenarioDoc, id: string): ScenarioDoc {
  const vm = doc.vms.find((v) => v.id === id);
  return vm ? withoutMdevs(doc, new Set(vm.mdevs.map((m) => m.id as string))) : doc;
}

/** Without a parent: its mdevs (and VMs left empty) and the steps that name it. */
export function withoutParent(doc: ScenarioDoc, id: string): ScenarioDoc {
  const mdevs = new Set(doc.vms.flatMap((vm) => vm.mdevs).filter((m) => m.parent === id).map((m) => m.id as string));
  const out = withoutMdevs(without(doc, { step: (st) => st.parent === id }), mdevs);
  out.parents = out.parents.filter((p) => p.id !== id);
  return out;
}
