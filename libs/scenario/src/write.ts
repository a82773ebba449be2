import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { z } from 'zod';
import { HostSchema, MdevSchema, ParentSchema, ScenarioSchema, StepSchema, VmSchema, WorkloadSchema, type Scenario } from './schema.js';

/** A JSON object as a scenario file holds it. */
export type Obj = Record<string, unknown>;

/**
 * A scenario as its file says it: only the fields written, none filled in by the schema. The
 * shrinker's candidates are edits of this form, each checked by ScenarioSchema before it is run.
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

/** The same object with these keys moved to its end (a step reads op, arguments, then what is expected). */
function lastly(o: Obj, keys: string[]): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (!keys.includes(k)) out[k] = v;
  for (const k of keys) if (k in o) out[k] = o[k];
  return out;
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
export function scenarioDoc(sc: Scenario): ScenarioDoc {
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
    steps: raw.steps.map((st) => lastly(withoutDefaults(st, StepSchema, ['op']), ['expect', 'note'])),
    workload: (raw.workload ?? []).map((w) => withoutDefaults(w, WorkloadSchema)),
  };
  if (!Object.keys(doc.host!).length) delete doc.host;
  if (!doc.workload!.length) delete doc.workload;
  return doc;
}

/** Addresses read best in hex, as the scenario files write them. */
const HEX = new Set(['gpgd', 'va', 'gpa', 'addr', 'size', 'granule_size']);

/** Every item of a list in flow style, one line each (with its numbers in hex where they are addresses). */
function flowItems(node: unknown): void {
  if (!isSeq(node)) return;
  for (const it of node.items) {
    if (!isMap(it)) continue;
    it.flow = true;
    for (const p of it.items) {
      if (isScalar(p.key) && HEX.has(String(p.key.value)) && isScalar(p.value) && typeof p.value.value === 'number' && p.value.value > 0xff) p.value.format = 'HEX';
      if (isMap(p.value)) p.value.flow = true;
    }
  }
}

/**
 * A scenario as a file a person reads, in the style of scenarios/: one line per step, VM's mdev,
 * parent, workload entry; `header` as a comment on top. Parsing it gives the scenario back.
 */
export function docYaml(doc: ScenarioDoc, header?: string): string {
  const d = new Document(doc);
  if (header) d.commentBefore = header.split('\n').map((l) => ` ${l}`).join('\n');
  const desc = d.get('description', true) as Node | undefined;
  if (isScalar(desc)) desc.type = 'BLOCK_FOLDED';
  for (const key of ['parents', 'steps', 'workload']) flowItems(d.get(key, true));
  const host = d.get('host', true);
  if (isMap(host)) host.flow = true;
  const verdicts = d.get('verdicts', true);
  if (isMap(verdicts)) verdicts.flow = true;
  else flowItems(verdicts);
  const vms = d.get('vms', true);
  if (isSeq(vms)) for (const vm of vms.items) if (isMap(vm)) flowItems(vm.get('mdevs', true));
  return d.toString({ lineWidth: 100 });
}


/** A validated scenario as a file (scenarioDoc, then docYaml). */
export const scenarioYaml = (sc: Scenario, header?: string): string => docYaml(scenarioDoc(sc), header);
