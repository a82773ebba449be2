import type { StepCompleted } from '../../contracts/src/index.js';
import type { Checker } from './types.js';

/** A step named as the timeline and the outcomes name it (engine/timeline.ts stepLabel): `steps[2] plan[7] (bind)`. */
const label = (c: StepCompleted) => {
  const plan = `plan[${c.step}]`;
  if (c.phase === 'setup' || c.scenarioIndex === null) return `setup ${plan} (${c.op})`;
  return `${c.phase === 'workload' ? 'workload' : 'steps'}[${c.scenarioIndex}] ${plan} (${c.op})`;
};

/** Each step's outcome is the one the scenario expects under the run's preset. */
export const expectedOutcome: Checker = {
  name: 'expected-outcome',
  check(h) {
    return h.events('orchestrator', 'step.completed')
      .filter((e) => !e.payload.asExpected)
      .map((e) => {
        const c = e.payload;
        return { invariant: 'expected-outcome', message: `${label(c)} returned ${c.got}, the scenario expects ${c.expected}`, events: [e.seq] };
      });
  },
};

/** Every command gets a completion: no step hangs the run (DOMAIN.md §6 `liveness`). */
export const liveness: Checker = {
  name: 'liveness',
  check(h) {
    return h.events('orchestrator', 'step.completed')
      .filter((e) => e.payload.outcome.timeout)
      .map((e) => ({ invariant: 'liveness', message: `${label(e.payload)} never completed`, events: h.chain(e) }));
  },
};
