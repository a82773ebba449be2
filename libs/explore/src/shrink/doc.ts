import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import { HostSchema, MdevSchema, ParentSchema, ScenarioSchema, StepSchema, VmSchema, WorkloadSchema, type Scenario } from '../../../scenario/src/index.js';

/** A JSON object as a scenario file holds it. */
export type Obj = Record<string, unknown>;

/**
 * A scenario as its file says it: only the fields written, none filled in by the schema. Candidates
 * are edits of this form, each checked by ScenarioSchema before it is run.
 */
export interface ScenarioDoc extends Obj {
  name: string;
  description: string;
  host?: Obj;
  parents: Obj[];
  vms: Array<Obj & { mdevs: Obj[] }>;
  steps: Obj[];
  workload?: Obj[];
}

export const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The scenario the doc is, or undefined when it is not one (a candidate that broke a rule). */
export function parseDoc(doc: ScenarioDoc): Scenario | undefined {
  const r = ScenarioSchema.safeParse(doc);
  return r.success ? r.data : undefined;
}

/** `o` without each field whose absence parses to the same value (it says the schema's default). */
function withoutDefaults(o: Obj, schema: z.ZodType, keep: readonly string[] = []): Obj {
  const full = schema.safeParse(o);
  if (!full.success) return o;
  const out = { ...o };
  for (const k of Object.keys(o)) {
    if (keep.includes(k)) continue;
    const { [k]: _drop, ...rest } = out;
    const r = schema.safeParse(rest);
    if (r.success && isDeepStrictEqual(r.data, full.data)) delete out[k];
  }
  return out;
}

/**
 * The doc of a validated scenario: every field that only repeats a default dropped (a parsed scenario
 * has them all filled in), so the file says what differs from a default and nothing else. Free: no run.
 */
export function docOf(sc: Scenario): ScenarioDoc {
  const raw = clone(sc) as unknown as ScenarioDoc;
  const host = withoutDefaults(raw.host ?? {}, HostSchema);
  // ecap's own fields, each checked on the whole host (ecap is one field of it)
  if (host.ecap) {
    const ecap = { ...(host.ecap as Obj) };
    const full = HostSchema.parse(host);
    for (const k of Object.keys(ecap)) {
      const { [k]: _drop, ...rest } = ecap;
      const r = HostSchema.safeParse({ ...host, ecap: rest });
      if (r.success && isDeepStrictEqual(r.data, full)) delete ecap[k];
    }
    if (Object.keys(ecap).length) host.ecap = ecap;
    else delete host.ecap;
  }
  const doc: ScenarioDoc = {
    ...raw,
    host,
    parents: raw.parents.map((p) => withoutDefaults(p, ParentSchema)),
    vms: raw.vms.map((vm) => ({ ...withoutDefaults(vm, VmSchema, ['mdevs']), mdevs: vm.mdevs.map((m) => withoutDefaults(m, MdevSchema)) }) as ScenarioDoc['vms'][number]),
    steps: raw.steps.map((st) => withoutDefaults(st, StepSchema, ['op'])),
    workload: (raw.workload ?? []).map((w) => withoutDefaults(w, WorkloadSchema)),
  };
  if (!Object.keys(doc.host!).length) delete doc.host;
  if (!doc.workload!.length) delete doc.workload;
  return doc;
}
