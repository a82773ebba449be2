import { clone, type Obj, type ScenarioDoc } from '../../../scenario/src/index.js';
import type { Shrinker } from './shrinker.js';

/** What names a thing or says what a step is: never simplified (removing those is the topology's and the steps' work). */
const IDENTITY = new Set(['op', 'id', 'vm', 'mdev', 'parent', 'group', 'mdevs', 'kind', 'create', 'attach', 'set_iommu']);
/** Repetitions: toward one. */
const COUNTS = new Set(['count', 'pages', 'nb_granules']);

/** Where the doc's objects are: a path, and the object at it in a doc. */
type At = (doc: ScenarioDoc) => Obj | undefined;

function objects(doc: ScenarioDoc): At[] {
  const at: At[] = [(d) => d.host, (d) => d.host?.ecap as Obj | undefined];
  doc.parents.forEach((_p, i) => at.push((d) => d.parents[i]));
  doc.vms.forEach((_v, i) => at.push((d) => d.vms[i]));
  doc.steps.forEach((_s, i) => at.push((d) => d.steps[i]));
  (doc.workload ?? []).forEach((_w, i) => at.push((d) => d.workload?.[i]));
  return at;
}

function edited(doc: ScenarioDoc, at: At, edit: (o: Obj) => void): ScenarioDoc {
  const out = clone(doc);
  edit(at(out)!);
  // an emptied host or ecap says nothing
  if (out.host?.ecap && !Object.keys(out.host.ecap as Obj).length) delete out.host.ecap;
  if (out.host && !Object.keys(out.host).length) delete out.host;
  return out;
}

/**
 * The arguments toward simpler values: each field back to its default (or gone, when optional:
 * `background: true`, a host or parent knob, a `min:`), then repetitions (count, pages) to 1 and
 * halved, and a workload's start to step 0. A field the schema requires fails to parse, at no cost.
 */
export async function shrinkArguments(s: Shrinker): Promise<void> {
  s.dimension = 'arguments';
  for (const at of objects(s.doc)) {
    for (const key of Object.keys(at(s.doc) ?? {})) {
      if (s.budgetHit) return;
      if (IDENTITY.has(key)) continue;
      if (await s.attempt(edited(s.doc, at, (o) => delete o[key]))) continue;
      const v = at(s.doc)?.[key];
      if (!COUNTS.has(key) || typeof v !== 'number') continue;
      // toward 1: at once, else by halves while each half still holds
      if (v > 1 && (await s.attempt(edited(s.doc, at, (o) => (o[key] = 1))))) continue;
      for (let n = Math.floor(v / 2); n > 1 && (await s.attempt(edited(s.doc, at, (o) => (o[key] = n)))); n = Math.floor(n / 2));
    }
  }
}
