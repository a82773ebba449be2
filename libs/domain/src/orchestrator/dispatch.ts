import type { Command, EventOf, OrchestratorEvents } from '../../../contracts/src/index.js';
import { stepCompleted } from './completed.js';
import { evt, type OrchestratorState } from './state.js';

/** Background ops in flight at once: a device's queue depth; keeps every component's in-flight state small. */
export const BACKGROUND_WINDOW = 32;

/** A step's arguments with its `$variables` replaced by their values, or why one has none. */
function resolveArgs(args: Record<string, unknown>, vars: Record<string, number>): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (typeof v === 'string' && v.startsWith('$')) {
      const val = vars[v.slice(1)];
      if (val === undefined) return `${v} has no value (the step that binds it did not succeed)`;
      out[k] = val;
    } else out[k] = v;
  }
  return out;
}

/**
 * Sends steps from `i`: background ones without waiting (at most BACKGROUND_WINDOW in flight, `inFlight`
 * now), up to and including the next foreground one; finishes the run when nothing is left in flight.
 * Skips steps whose variables are unbound.
 */
export function dispatch(s: OrchestratorState, i: number, inFlight: number): Array<EventOf<OrchestratorEvents> | Command> {
  const out: Array<EventOf<OrchestratorEvents> | Command> = [];
  let bg = inFlight;
  for (let k = i; ; k++) {
    if (k >= s.plan.length) {
      out.push(evt('steps.all_sent', { cursor: s.plan.length }));
      if (!bg) out.push(evt('run.finished', { reason: 'all steps done' }));
      return out;
    }
    const step = s.plan[k]!;
    if (step.background && bg >= BACKGROUND_WINDOW) {
      // the device's queue is full: go on when one of its ops completes
      out.push(evt('steps.paused', { cursor: k, inFlight: bg }));
      return out;
    }
    const args = resolveArgs(step.args, s.vars);
    if (typeof args === 'string') {
      out.push(evt('step.skipped', { step: k, why: args, background: !!step.background }));
      continue;
    }
    out.push(evt('step.started', { step: k, op: step.op, target: step.target, ...(step.background ? { background: true as const } : {}) }));
    if (step.op === 'quiesce') {
      // the guest stops its devices' work and waits until every background op has completed
      if (bg) return out;
      out.push(evt('step.completed', stepCompleted(s, k, { ret: 0 })));
      continue;
    }
    // The one cast of the orchestrator: the op comes from the plan, so `step.${op}` is a type of its
    // target's input map only as the scenario loader checked it (with its arguments), not to the compiler.
    out.push({ kind: 'command', to: step.target, type: `step.${step.op}`, payload: { step: k, ...args } } as Command);
    if (!step.background) return out;
    bg++;
  }
}
