import { PRESETS } from '../../../libs/contracts/src/index.js';
import { loadScenario, verdictRuns, type Scenario } from '../../../libs/scenario/src/index.js';

/** The preset a run uses, the overrides that come with it, and why (null: the user named it). */
export interface PolicyChoice {
  preset: string;
  /** `name=value` overrides: the scenario's own for the chosen side, then the user's `--set` */
  set: string[];
  why: string | null;
}

const sets = (o: Record<string, string | number | boolean> | undefined) => Object.entries(o ?? {}).map(([k, v]) => `${k}=${v}`);

/**
 * Which policy `vsva-sim run <scenario>` uses when no `--policy` is given:
 * 1. a scenario that reproduces a bug (`bug:`) runs its buggy preset (with `bug.buggySet`): the
 *    scenario exists to show that finding, and `--policy <fixed>` is one flag away;
 * 2. else a scenario that declares `verdicts:` runs `mainline` if it lists it, else the newest preset
 *    it lists: the version it is meant to be read under (as listed without overrides, if it is; else
 *    with the overrides of its first run);
 * 3. else `mainline`, today's kernel.
 * `--policy` always wins; the user's `--set` applies on top of whichever preset is chosen.
 */
export function choosePolicy(scenario: Scenario | null, o: { policy?: string; set: string[] }): PolicyChoice {
  if (o.policy) return { preset: o.policy, set: o.set, why: null };
  const bug = scenario?.bug;
  if (bug) {
    const own = sets(bug.buggySet);
    return {
      preset: bug.buggy,
      set: [...own, ...o.set],
      why: `the buggy preset of the bug this scenario reproduces (#${bug.id}, breaks ${bug.invariant})${own.length ? ` with its overrides ${own.join(', ')}` : ''}; --policy ${bug.fixed}${bug.fixedSet && Object.keys(bug.fixedSet).length ? ` ${sets(bug.fixedSet).map((s) => `--set ${s}`).join(' ')}` : ''} runs the fix`,
    };
  }
  const runs = scenario ? verdictRuns(scenario) : [];
  const declared = PRESETS.filter((p) => runs.some((r) => r.preset === p));
  if (declared.length) {
    const preset = declared.includes('mainline') ? 'mainline' : declared[declared.length - 1]!;
    // the preset as it is, when the file declares it so; else its first run with overrides
    const run = runs.find((r) => r.preset === preset && !Object.keys(r.set).length) ?? runs.find((r) => r.preset === preset)!;
    const own = sets(run.set);
    return {
      preset,
      set: [...own, ...o.set],
      why: `${preset === 'mainline' ? 'today\'s kernel, one of' : 'the newest of'} the presets this scenario declares in verdicts (${declared.join(', ')})${own.length ? ` with its overrides ${own.join(', ')}` : ''}, expected to ${run.verdict}`,
    };
  }
  return { preset: 'mainline', set: o.set, why: 'the scenario declares no bug and no verdicts: mainline is today\'s kernel' };
}

/**
 * `o` with its policy resolved for `file` (see choosePolicy), saying on stderr which preset was
 * chosen and why when the user did not name one. A file that does not load is left to the caller,
 * which reports it.
 */
export function withScenarioPolicy<T extends { policy?: string; set: string[] }>(file: string, o: T): T & { policy: string } {
  if (o.policy) return o as T & { policy: string };
  let scenario: Scenario | null = null;
  try {
    scenario = loadScenario(file);
  } catch {
    return { ...o, policy: 'mainline' };
  }
  const c = choosePolicy(scenario, o);
  process.stderr.write(`policy ${c.preset}${c.set.length ? ` + ${c.set.join(', ')}` : ''} (no --policy): ${c.why}\n`);
  return { ...o, policy: c.preset, set: c.set };
}
