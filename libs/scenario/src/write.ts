import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isScalar, isSeq, visit } from 'yaml';

/** Addresses and sizes, written in hex as a kernel engineer reads them. */
const HEX = new Set(['gpgd', 'va', 'gpa', 'addr', 'size', 'granule_size']);
import type { z } from 'zod';
import { HostSchema, ParentSchema, StepSchema, VmSchema, WorkloadSchema, MdevSchema, type Scenario } from './schema.js';

/** The fields of `v` its schema would fill in by itself, left out: what a person would have written. */
function withoutDefaults<T extends Record<string, unknown>>(schema: z.ZodType, v: T): Partial<T> {
  const out: Record<string, unknown> = { ...v };
  for (const k of Object.keys(v)) {
    if (k === 'op' || k === 'id') continue;
    const { [k]: _, ...rest } = out;
    const r = schema.safeParse(rest);
    if (r.success && isDeepStrictEqual(r.data, schema.parse(out))) delete out[k];
  }
  return out as Partial<T>;
}

/** The same object with these keys moved to its end (a step reads op, arguments, then what is expected). */
function lastly<T extends Record<string, unknown>>(o: T, keys: string[]): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!keys.includes(k)) out[k] = v;
  for (const k of keys) if (k in o) out[k] = o[k];
  return out as T;
}

/**
 * A scenario as a file a person reads: fields at their defaults left out, each step, mdev and parent
 * on one line (flow style), as the files in scenarios/ are written. Parsing it gives the scenario back.
 */
export function scenarioYaml(sc: Scenario, header?: string): string {
  const host = withoutDefaults(HostSchema, sc.host as unknown as Record<string, unknown>);
  const doc = {
    name: sc.name,
    description: sc.description,
    ...(sc.models ? { models: sc.models } : {}),
    ...(sc.bug ? { bug: sc.bug } : {}),
    ...(sc.verdicts ? { verdicts: sc.verdicts } : {}),
    ...(Object.keys(host).length ? { host } : {}),
    parents: sc.parents.map((p) => withoutDefaults(ParentSchema, p)),
    vms: sc.vms.map((vm) => ({ ...withoutDefaults(VmSchema, vm), mdevs: vm.mdevs.map((m) => withoutDefaults(MdevSchema, m)) })),
    steps: sc.steps.map((st) => lastly(withoutDefaults(StepSchema, st), ['expect', 'note'])),
    ...(sc.workload.length ? { workload: sc.workload.map((w) => withoutDefaults(WorkloadSchema, w)) } : {}),
  };
  const d = new Document(doc);
  // one line per step, parent, mdev and workload entry
  const flow = (node: unknown) => {
    if (isSeq(node)) for (const item of node.items) if (isMap(item)) item.flow = true;
  };
  for (const k of ['parents', 'steps', 'workload']) flow(d.get(k, true));
  const vms = d.get('vms', true);
  if (isSeq(vms)) for (const vm of vms.items) if (isMap(vm)) flow(vm.get('mdevs', true));
  visit(d, {
    Pair(_, pair) {
      if (isScalar(pair.key) && HEX.has(String(pair.key.value)) && isScalar(pair.value) && typeof pair.value.value === 'number' && pair.value.value > 9) pair.value.format = 'HEX';
    },
  });
  if (header) d.commentBefore = header.split('\n').map((l) => ` ${l}`).join('\n');
  return d.toString({ lineWidth: 0 });
}
