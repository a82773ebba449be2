import { z } from 'zod';
import type { Component } from '../components.js';
import type { ResolvedPolicy } from '../policy.js';
import type { ExpectSpec } from '../run-spec.js';
import { StepFields, type PayloadsOf } from './message.js';
import { OutcomeSchema, RunStartSchema, type Outcome } from './run.js';

/** The run itself: the CLI's start, every step's completion, and its own step timer. */
export const OrchestratorInputSchemas = {
  'run.start': RunStartSchema,
  'step.completed': z.object({ ...StepFields, outcome: OutcomeSchema }),
  'step.timeout': z.object({ ...StepFields }),
};
export type OrchestratorInputs = PayloadsOf<typeof OrchestratorInputSchemas>;

/**
 * One step of a run: the topology's setup first, then the scenario's steps (with the workload woven in).
 * Two numberings meet here, and every report labels which one it shows: `index` is the position in
 * the plan (`plan[7]`; the `step` field of the log's payloads), `scenarioIndex` the position in the
 * scenario file's `steps` list (`steps[2]`, as in the loader's error paths) or `workload` list.
 * The orchestrator plans it (libs/domain orchestrator/plan.ts) and records the plan in `run.started`.
 */
export interface PlannedStep {
  /** position in the plan: setup steps first; what the log's `step` fields hold */
  index: number;
  phase: 'setup' | 'scenario' | 'workload';
  /** index in the scenario file's `steps` (or `workload`): `steps[i]` / `workload[i]` in reports */
  scenarioIndex?: number;
  op: string;
  target: Component;
  args: Record<string, unknown>;
  expect?: ExpectSpec;
  as?: string;
  /** sent without waiting for its completion (device activity beside the guest's control path) */
  background?: boolean;
}

/** How a step ended, as the orchestrator records it: what the report, the checkers and the timeline read. */
// a type literal, not an interface: an event payload must satisfy Record<string, unknown> (libs/domain decider.ts)
export type StepCompleted = {
  /** the plan index */
  step: number;
  op: string;
  phase: PlannedStep['phase'];
  scenarioIndex: number | null;
  outcome: Outcome;
  /** the outcome's name: ok, an errno name, oops, timeout */
  got: string;
  /** what the scenario expects under the run's preset; null if it expects nothing */
  expected: string | null;
  asExpected: boolean;
  /** the variable the step binds (`as:`) to the value it returned, when it succeeded */
  bind: Record<string, number> | null;
  background?: true;
};

/**
 * What the orchestrator records about the run: a cursor over the planned steps. It parks no
 * continuation (it waits for nothing but its steps' completions, which are its inputs).
 */
export type OrchestratorEvents = {
  /** an input it has nothing to do with (a second start, a late completion) */
  ignored: { why: string };
  'run.started': { scenario: string; policy: ResolvedPolicy; seed: number; plan: PlannedStep[] };
  'step.started': { step: number; op: string; target: Component; background?: true };
  /** a step whose `$variable` is unbound (the step that binds it did not succeed) */
  'step.skipped': { step: number; why: string; background: boolean };
  'step.completed': StepCompleted;
  /** every step was sent; `cursor` is the plan's length */
  'steps.all_sent': { cursor: number };
  /** the device's queue is full: sending resumes from `cursor` when one of its `inFlight` ops completes */
  'steps.paused': { cursor: number; inFlight: number };
  'run.finished': { reason: string };
};
