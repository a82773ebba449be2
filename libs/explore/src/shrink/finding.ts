import { Document, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { ResolvedPolicy } from '../../../contracts/src/index.js';
import type { ScenarioDoc } from './doc.js';
import type { Schedule } from './shrinker.js';

/**
 * The doc without what a person wrote about the original: its steps' `expect:` and `note:` (a shrunk
 * file is a finding, not a regression test), its bug-table entry, its verdicts and its model text.
 */
export function bare(doc: ScenarioDoc): ScenarioDoc {
  const { bug: _bug, verdicts: _verdicts, models: _models, ...rest } = doc;
  return { ...rest, steps: doc.steps.map(({ expect: _e, note: _n, ...st }) => st) } as ScenarioDoc;
}

/** How a policy is written: `v1`, or `mainline + vtd.drain_prq=false`. */
export const policyLabel = (p: ResolvedPolicy) => [p.preset, ...Object.entries(p.overrides).map(([k, v]) => `${k}=${v}`)].join(' + ');

/**
 * The shrunk doc as a finding: named after the original, described by where it came from and what it
 * breaks, and with `verdicts` declaring the failing policy, so that `vsva-sim run` picks that policy by
 * itself (choosePolicy: no bug, one declared preset; a list with `set:` when the policy has overrides).
 */
export function findingDoc(doc: ScenarioDoc, o: { policy: ResolvedPolicy; schedule: Schedule; invariant: string; message?: string; source?: string }): ScenarioDoc {
  const overrides = Object.entries(o.policy.overrides);
  const name = /^[a-z0-9][a-z0-9-]{0,63}$/.test(`${doc.name}-shrunk`) ? `${doc.name}-shrunk` : doc.name;
  const sched = o.schedule.bias === undefined ? `seed ${o.schedule.seed}` : o.schedule.bias === 1 ? 'the default order (bias 1)' : `seed ${o.schedule.seed}, bias ${o.schedule.bias}`;
  const description = [
    `Shrunk by vsva-sim shrink from ${o.source ?? doc.name} (${policyLabel(o.policy)}, ${sched}).`,
    `Breaks ${o.invariant}${o.message ? `: ${o.message}` : '.'}`,
  ].join(' ');
  const { name: _n, description: _d, ...rest } = doc;
  return {
    name,
    description,
    verdicts: overrides.length ? [{ preset: o.policy.preset, set: Object.fromEntries(overrides), verdict: 'fail' }] : { [o.policy.preset]: 'fail' },
    ...rest,
  } as ScenarioDoc;
}

/** Addresses read best in hex, as the scenario files write them. */
const HEX = new Set(['gpgd', 'va', 'gpa', 'addr', 'size']);

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

/** The finding as a file a person reads, in the style of scenarios/: one line per step, VM's mdev, parent, workload entry. */
export function findingYaml(doc: ScenarioDoc): string {
  const d = new Document(doc);
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

