import { z } from 'zod';
import { StepFields, type PayloadsOf } from './message.js';
import { OutcomeSchema, RunStartSchema } from './run.js';

/** The run itself: the CLI's start, every step's completion, and its own step timer. */
export const OrchestratorInputSchemas = {
  'run.start': RunStartSchema,
  'step.completed': z.object({ ...StepFields, outcome: OutcomeSchema }),
  'step.timeout': z.object({ ...StepFields }),
};
export type OrchestratorInputs = PayloadsOf<typeof OrchestratorInputSchemas>;

/** What the component records about itself. Placeholder until its events are typed (issue 9): any event. */
export type OrchestratorEvents<W = unknown> = { [type: string]: Record<string, unknown> };
