import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePolicy, type ResolvedPolicy } from '../../libs/contracts/src/index.js';
import { loadScenario, type Scenario } from '../../libs/scenario/src/index.js';

/** Every scenario of the corpus with each policy it declares (its bug's buggy and fixed sides, its verdicts), or mainline. */
export function corpus(dir = 'scenarios'): Array<{ file: string; scenario: Scenario; policies: Array<{ label: string; policy: ResolvedPolicy }> }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const scenario = loadScenario(file);
      const sides: Array<[string, Record<string, string | number | boolean>]> = [];
      if (scenario.bug) sides.push([scenario.bug.buggy, scenario.bug.buggySet ?? {}], [scenario.bug.fixed, scenario.bug.fixedSet ?? {}]);
      for (const p of Object.keys(scenario.verdicts ?? {})) sides.push([p, {}]);
      if (!sides.length) sides.push(['mainline', {}]);
      const seen = new Map<string, { label: string; policy: ResolvedPolicy }>();
      for (const [preset, set] of sides) {
        const label = `${preset}${Object.keys(set).length ? `+${Object.entries(set).map(([k, v]) => `${k}=${v}`).join(',')}` : ''}`;
        seen.set(label, { label, policy: resolvePolicy(preset, set) });
      }
      return { file, scenario, policies: [...seen.values()] };
    });
}
