import type { Outcome, StepCompleted } from '../../../contracts/src/index.js';
import { outcomeName } from '../outcome.js';
import type { PlannedStep } from './plan.js';
import type { OrchestratorState } from './state.js';

/** The outcome the scenario expects of a step under the run's preset, if any. */
function expectedFor(step: PlannedStep, preset: OrchestratorState['preset']): string | undefined {
  const e = step.expect;
  if (e === undefined || preset === undefined) return undefined;
  if (typeof e === 'string') return e;
  return e[preset] ?? e.default;
}

/**
 * Step `i` ended with `outcome` (its target completed it, request-reply.ts completeStep, or it timed
 * out): what the orchestrator records, with the scenario's expectation and the variable it binds.
 */
export function stepCompleted(s: OrchestratorState, i: number, outcome: Outcome): StepCompleted {
  const step = s.plan[i]!;
  const expected = expectedFor(step, s.preset);
  const got = outcomeName(outcome);
  return {
    step: i, op: step.op, phase: step.phase, scenarioIndex: step.scenarioIndex ?? null, outcome,
    got, expected: expected ?? null, asExpected: expected === undefined || expected === got,
    bind: step.as && typeof outcome.value === 'number' && outcome.ret >= 0 ? { [step.as]: outcome.value } : null,
    ...(step.background ? { background: true as const } : {}),
  };
}
