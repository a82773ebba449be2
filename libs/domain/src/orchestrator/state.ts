import type { OrchestratorEvents, Preset } from '../../../contracts/src/index.js';
import { eventsOf } from '../decider.js';
import type { PlannedStep } from './plan.js';

/**
 * The run itself: a cursor over the planned steps, one foreground step in flight at a time;
 * background steps (device activity) are sent without waiting and complete whenever they do.
 */
export interface OrchestratorState {
  preset?: Preset;
  plan: PlannedStep[];
  /** the foreground step awaited (plan.length once all were sent) */
  cursor: number;
  vars: Record<string, number>;
  /** steps completed so far */
  completed: number;
  /** background steps sent and not yet completed */
  background: Record<number, true>;
  finished: boolean;
}

/** The orchestrator's events, checked against its map (libs/contracts messages/orchestrator.ts). */
export const evt = eventsOf<OrchestratorEvents>();
