import type { Expected, ExpectSpec, Outcome, OutcomeName, StepCompleted } from '../../../contracts/src/index.js';
import { outcomeName } from '../outcome.js';
import type { PlannedStep } from './plan.js';
import type { OrchestratorState } from './state.js';

const isExpected = (e: ExpectSpec): e is Expected => typeof e === 'string' || 'oneOf' in e;

/** The outcomes the scenario accepts of a step under the run's preset (one, or `oneOf`'s alternatives), if any. */
function expectedFor(step: PlannedStep, preset: OrchestratorState['preset']): OutcomeName[] | undefined {
  const e = step.expect;
  if (e === undefined || preset === undefined) return undefined;
  const one = isExpected(e) ? e : e[preset] ?? e.default;
  if (one === undefined) return undefined;
  return typeof one === 'string' ? [one] : one.oneOf;
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
    // alternatives read as the file names them: EACCES|ENOENT
    got, expected: expected ? expected.join('|') : null, asExpected: expected === undefined || expected.some((x) => x === got),
    bind: step.as && typeof outcome.value === 'number' && outcome.ret >= 0 ? { [step.as]: outcome.value } : null,
    ...(step.background ? { background: true as const } : {}),
  };
}
