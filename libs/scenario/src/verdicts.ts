import { isPreset, POLICIES, PolicyError, resolvePolicy, type PolicyValue, type Preset } from '../../contracts/src/index.js';
import type { Scenario } from './schema.js';

/** Policy overrides on top of a preset (policy name -> value), as `--set name=value` gives them. */
export type PolicySet = Record<string, PolicyValue>;

/** One run a scenario declares: a preset, its overrides, and the verdict expected of it. */
export interface VerdictRun {
  preset: Preset;
  set: PolicySet;
  verdict: 'pass' | 'fail';
}

/** A run as the corpus and the tests name it: `v7`, or `v7+vfio.singleton_nesting_container=false`. */
export function runLabel(preset: string, set: PolicySet = {}): string {
  return `${preset}${Object.keys(set).length ? `+${Object.entries(set).map(([k, v]) => `${k}=${v}`).join(',')}` : ''}`;
}

/**
 * What is wrong with overrides on `preset`, name by name: an unknown policy, or a value its schema
 * refuses (resolvePolicy's own check, the one `--set` gets). Empty when they resolve.
 */
export function policySetProblems(preset: Preset, set: PolicySet): Array<{ name: string; message: string }> {
  const out: Array<{ name: string; message: string }> = [];
  for (const [name, value] of Object.entries(set)) {
    if (!(name in POLICIES)) {
      out.push({ name, message: `unknown policy '${name}' (docs/policies.md lists them)` });
      continue;
    }
    try {
      resolvePolicy(preset, { [name]: value });
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      out.push({ name, message: e.message });
    }
  }
  return out;
}

/**
 * The runs of `verdicts:` in one form, whichever the file used: the map `{ v1: fail, v2: pass }`
 * (no overrides) or the list `[{ preset, set, verdict }]`.
 */
export function verdictRuns(sc: Pick<Scenario, 'verdicts'>): VerdictRun[] {
  const v = sc.verdicts;
  if (!v) return [];
  if (Array.isArray(v)) return v.map((r) => ({ preset: r.preset, set: r.set ?? {}, verdict: r.verdict }));
  const out: VerdictRun[] = [];
  for (const [preset, verdict] of Object.entries(v)) if (isPreset(preset) && verdict) out.push({ preset, set: {}, verdict });
  return out;
}

/** A run the corpus makes of a scenario: its bug's buggy or fixed side, or one of its verdicts. */
export interface DeclaredRun extends VerdictRun {
  role: 'buggy' | 'fixed' | 'verdict';
  label: string;
}

/**
 * Every run a scenario declares, each once: its bug's buggy side (expected to fail with the bug's
 * invariant) and fixed side, then its verdicts (one naming a bug side's run is that run); with
 * neither, mainline, expected to pass.
 */
export function declaredRuns(sc: Pick<Scenario, 'bug' | 'verdicts'>): DeclaredRun[] {
  const out: DeclaredRun[] = [];
  const add = (role: DeclaredRun['role'], preset: Preset, set: PolicySet, verdict: 'pass' | 'fail') => {
    const label = runLabel(preset, set);
    // a verdict that names a bug side's run is that run; the two bug sides always run, even as one
    // label (a fixed side that is the buggy one is then reported not as declared)
    if (role === 'verdict' && out.some((r) => r.label === label)) return;
    out.push({ role, preset, set, verdict, label });
  };
  if (sc.bug) {
    add('buggy', sc.bug.buggy, sc.bug.buggySet ?? {}, 'fail');
    add('fixed', sc.bug.fixed, sc.bug.fixedSet ?? {}, 'pass');
  }
  for (const r of verdictRuns(sc)) add('verdict', r.preset, r.set, r.verdict);
  if (!out.length) add('verdict', 'mainline', {}, 'pass');
  return out;
}
