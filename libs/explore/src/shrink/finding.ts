import type { ResolvedPolicy } from '../../../contracts/src/index.js';
import type { ScenarioDoc } from '../../../scenario/src/index.js';
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

