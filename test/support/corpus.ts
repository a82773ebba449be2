import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePolicy, type ResolvedPolicy } from '../../libs/contracts/src/index.js';
import { declaredRuns, loadScenario, type Scenario } from '../../libs/scenario/src/index.js';

/**
 * Every scenario of the corpus with each run it declares (its bug's buggy and fixed sides, its
 * verdicts, each a preset with its overrides), or mainline; labelled as the corpus command labels them.
 */
export function corpus(dir = 'scenarios'): Array<{ file: string; scenario: Scenario; policies: Array<{ label: string; policy: ResolvedPolicy }> }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const scenario = loadScenario(file);
      const policies = declaredRuns(scenario).map((r) => ({ label: r.label, policy: resolvePolicy(r.preset, r.set) }));
      return { file, scenario, policies };
    });
}
