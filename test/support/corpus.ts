import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from '../../libs/scenario/src/index.js';
import type { Scenario } from '../../libs/scenario/src/schema.js';

/** Every scenario of the corpus with the presets it declares (its bug's buggy/fixed, its verdicts), or mainline. */
export function corpus(dir = 'scenarios'): Array<{ file: string; scenario: Scenario; presets: string[] }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const scenario = loadScenario(file);
      const presets = new Set<string>([...(scenario.bug ? [scenario.bug.buggy, scenario.bug.fixed] : []), ...Object.keys(scenario.verdicts ?? {})]);
      return { file, scenario, presets: presets.size ? [...presets] : ['mainline'] };
    });
}
