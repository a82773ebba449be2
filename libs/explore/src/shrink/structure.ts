import { clone, type Obj, type ScenarioDoc } from '../../../scenario/src/index.js';
import { without, withoutMdevs, withoutParent, withoutSteps, withoutVm } from './remove.js';
import type { Shrinker } from './shrinker.js';

/**
 * Delta debugging over a list of `n` items (Zeller's ddmin, complement side): remove chunks of half
 * the list, then of a quarter, ... down to single items, each from the end, keeping every removal
 * after which the finding still holds. `remove(lo, hi)` tries [lo, hi) of the current list; removals
 * at the end first leave the indices before them as they were.
 */
async function ddmin(s: Shrinker, length: () => number, remove: (lo: number, hi: number) => Promise<boolean>): Promise<void> {
  for (let chunk = Math.ceil(length() / 2); chunk >= 1; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
    for (let hi = length(); hi > 0 && !s.budgetHit; hi -= chunk) await remove(Math.max(0, hi - chunk), hi);
  }
}

const range = (lo: number, hi: number) => new Set(Array.from({ length: hi - lo }, (_, i) => lo + i));

/** The steps: chunks, then single steps (a step goes with the users of its variable). */
export async function shrinkSteps(s: Shrinker): Promise<void> {
  s.dimension = 'steps';
  await ddmin(s, () => s.doc.steps.length, (lo, hi) => s.attempt(withoutSteps(s.doc, range(lo, hi))));
}

/** The background workload: its entries, as the steps. */
export async function shrinkWorkload(s: Shrinker): Promise<void> {
  s.dimension = 'workload';
  await ddmin(s, () => s.doc.workload?.length ?? 0, (lo, hi) => s.attempt(without(s.doc, { workload: (_w, i) => i >= lo && i < hi })));
}

/** VMs, then parents, then mdevs, one at a time from the last, each with what names it. */
export async function shrinkTopology(s: Shrinker): Promise<void> {
  s.dimension = 'topology';
  for (const id of s.doc.vms.map((v) => v.id as string).reverse()) await s.attempt(withoutVm(s.doc, id));
  for (const id of s.doc.parents.map((p) => p.id as string).reverse()) await s.attempt(withoutParent(s.doc, id));
  for (const id of s.doc.vms.flatMap((v) => v.mdevs.map((m) => m.id as string)).reverse()) await s.attempt(withoutMdevs(s.doc, new Set([id])));
}

/** A copy of the doc with `edit` done on the mdevs `pick` selects. */
function editMdevs(doc: ScenarioDoc, pick: (vm: Obj, m: Obj) => boolean, edit: (m: Obj) => void): ScenarioDoc {
  const out = clone(doc);
  for (const vm of out.vms) for (const m of vm.mdevs) if (pick(vm, m)) edit(m);
  return out;
}

/**
 * Setup done by steps back to setup before step 0 (`manual` -> auto), with the steps that did it;
 * mdevs of a shared group each in its own group again.
 */
export async function shrinkSetup(s: Shrinker): Promise<void> {
  s.dimension = 'setup';
  for (const vm of clone(s.doc.vms)) {
    if (vm.set_iommu === 'manual') {
      const cand = without(s.doc, { step: (st) => st.op === 'vfio_set_iommu' && st.vm === vm.id });
      delete cand.vms.find((v) => v.id === vm.id)!.set_iommu;
      await s.attempt(cand);
    }
    for (const group of new Set(vm.mdevs.filter((m) => m.attach === 'manual').map((m) => (m.group ?? m.id) as string))) {
      const inGroup = (v: Obj, m: Obj) => v.id === vm.id && (m.group ?? m.id) === group;
      const cand = editMdevs(without(s.doc, { step: (st) => st.op === 'vfio_attach_group' && st.vm === vm.id && st.group === group }), inGroup, (m) => delete m.attach);
      await s.attempt(cand);
    }
    for (const m of vm.mdevs) {
      if (m.create === 'manual') {
        const cand = editMdevs(without(s.doc, { step: (st) => st.op === 'mdev_create' && st.mdev === m.id }), (_v, x) => x.id === m.id, (x) => delete x.create);
        await s.attempt(cand);
      }
      if (m.group !== undefined) await s.attempt(editMdevs(s.doc, (_v, x) => x.id === m.id, (x) => delete x.group));
    }
  }
}
