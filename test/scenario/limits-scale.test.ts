import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { planRun } from '../../libs/domain/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { DEFAULT_LIMITS, parseScenario, plannedStepCount } from '../../libs/scenario/src/index.js';
import { problemsOf, sized } from './sized.js';

// The embedded engine at and past the scenario size limits (50,000 to 200,000 planned steps): pure, but
// each run takes seconds on an idle machine and a minute on a loaded one, so these are kept out of the
// unit project (npm run test:unit) and run with the rest by npm test. The limits themselves are
// checked fast in limits.unit.test.ts.
describe('scenario size limits, at scale', () => {
  it('a scenario at the planned-step limit plans and runs in the embedded engine without overflowing the stack', async () => {
    // 30,000 steps (29,999 quiesce steps complete in one decision) and the rest of the 50,000 as DMA queued after the last step
    const steps = DEFAULT_LIMITS.steps;
    const ops = DEFAULT_LIMITS.plannedSteps - steps - 3;
    const sc = parseScenario(sized(steps, ops), 'at-limit.yaml', DEFAULT_LIMITS);
    expect(plannedStepCount(sc)).toBe(DEFAULT_LIMITS.plannedSteps);
    const run = await runEmbedded({ runId: 'limit', scenario: sc, policy: resolvePolicy('v2'), seed: 1, hash: false });
    const completed = run.entries.filter((e) => e.kind === 'event' && e.component === 'orchestrator' && e.type === 'step.completed');
    expect(completed.length).toBe(DEFAULT_LIMITS.plannedSteps);
    expect(run.entries.at(-1)).toMatchObject({ type: 'run.finished' });
    // one step more is refused, naming the limit and how to raise it
    const over = problemsOf(() => parseScenario(sized(steps, ops + 1), 'over.yaml', DEFAULT_LIMITS));
    expect(over).toEqual([{ path: '', message: expect.stringMatching(/plan 50001 steps .*over the limit of 50000 \(set VSVA_MAX_PLANNED_STEPS to raise it\)/) }]);
  });

  it('with the limits raised, nothing in the planner or the engine grows the stack with the input', async () => {
    // a workload of 200,000 ops at one position overflowed the planner's push(...ops) (issue 8), and
    // 150,000 quiesce steps complete in one decision whose entries the engine pushed as one spread
    // (built as objects: the loader's limits are what keep such files out, not what is tested here)
    const base = parseScenario(sized(2, 1), 'base.yaml');
    const wide = { ...base, workload: Array.from({ length: 20 }, () => ({ ...base.workload[0]!, count: 10_000 })) };
    expect(planRun(wide).length).toBe(200_005);
    const long = { ...base, steps: [base.steps[0]!, ...Array.from({ length: 150_000 }, () => ({ op: 'quiesce' as const }))], workload: [] };
    const run = await runEmbedded({ runId: 'long', scenario: long, policy: resolvePolicy('v2'), seed: 1, hash: false });
    expect(run.entries.filter((e) => e.type === 'step.completed' && e.kind === 'event').length).toBe(150_004);
  });
});
