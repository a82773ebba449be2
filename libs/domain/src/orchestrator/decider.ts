import { COMPONENTS, type Command, type EventOf, type InputTo, type OrchestratorEvents, type Outcome, type RunOpen } from '../../../contracts/src/index.js';
import { cmd, drop, put, type Decider } from '../decider.js';
import { stepCompleted } from './completed.js';
import { dispatch } from './dispatch.js';
import { planRun } from './plan.js';
import { evt, type OrchestratorState } from './state.js';

export type { RunStart } from '../../../contracts/src/index.js';
export type { OrchestratorState };
export { BACKGROUND_WINDOW } from './dispatch.js';

type Out = EventOf<OrchestratorEvents> | Command;

/**
 * Step `i` completed (its target sent `step.completed`, request-reply.ts completeStep) or timed out:
 * record it, then send what comes next or finish the run.
 */
function complete(s: OrchestratorState, i: number, outcome: Outcome): Out[] {
  const step = s.plan[i]!;
  const c = stepCompleted(s, i, outcome);
  const done = evt('step.completed', c);
  // A host oops ends the machine: nothing after it can run. A timed-out step leaves the run stuck.
  if (outcome.oops) return [done, evt('run.finished', { reason: `host oops in ${outcome.oops}` })];
  if (step.background) {
    const left = Object.keys(s.background).filter((k) => Number(k) !== i).length;
    if (s.cursor < s.plan.length && s.plan[s.cursor]!.background) return [done, ...dispatch(s, s.cursor, left)];
    if (left) return [done];
    if (s.cursor >= s.plan.length) return [done, evt('run.finished', { reason: 'all steps done' })];
    // a quiesce step was waiting for the last background op
    if (s.plan[s.cursor]?.op === 'quiesce') {
      const q = evt('step.completed', stepCompleted(s, s.cursor, { ret: 0 }));
      return [done, q, ...dispatch({ ...s, cursor: s.cursor + 1 }, s.cursor + 1, 0)];
    }
    return [done];
  }
  if (outcome.timeout) return [done, evt('run.finished', { reason: `step ${i} (${step.op}) timed out` })];
  const vars = { ...s.vars, ...c.bind };
  return [done, ...dispatch({ ...s, cursor: i + 1, vars }, i + 1, Object.keys(s.background).length)];
}

export const orchestratorDecider: Decider<OrchestratorState, InputTo<'orchestrator'>, Out> = {
  component: 'orchestrator',
  initialState: () => ({ plan: [], cursor: 0, vars: {}, completed: 0, background: {}, finished: false }),

  decide(s, input) {
    switch (input.type) {
      case 'run.start': {
        if (s.plan.length) return [evt('ignored', { why: 'run already started' })];
        const start = input.payload;
        const plan = planRun(start.scenario);
        const open: RunOpen = {
          preset: start.policy.preset,
          policy: start.policy.values,
          topology: { host: start.scenario.host, parents: start.scenario.parents, vms: start.scenario.vms },
        };
        const started = evt('run.started', { scenario: start.scenario.name, policy: start.policy, seed: start.seed, plan });
        const opens = COMPONENTS.filter((c) => c !== 'orchestrator').map((c) => cmd(c, 'run.open', { ...open }));
        const next = { ...s, plan, preset: start.policy.preset };
        return [started, ...opens, ...dispatch(next, 0, 0)];
      }
      case 'step.completed': {
        const { step: i, outcome } = input.payload;
        if (s.finished) return [evt('ignored', { why: `completion of step ${i} after the run finished` })];
        if (s.background[i]) return complete(s, i, outcome);
        if (i !== s.cursor) return [evt('ignored', { why: `completion of step ${i} while at step ${s.cursor}` })];
        return complete(s, i, outcome);
      }
      case 'step.timeout': {
        const i = input.payload.step;
        if (s.finished) return [];
        if (i === s.cursor && i < s.plan.length && !s.plan[i]!.background) return complete(s, i, { ret: 0, timeout: true });
        // quiescent with background steps that will never complete: each times out, the run ends
        const stuck = Object.keys(s.background).map(Number);
        if (!stuck.length) return [evt('run.finished', { reason: 'quiescent' })];
        return [...stuck.map((k) => evt('step.completed', stepCompleted(s, k, { ret: 0, timeout: true }))), evt('run.finished', { reason: `background steps ${stuck.join(', ')} timed out` })];
      }
      default: {
        // the host checked the input against the orchestrator's schemas: only an input added to them without a case lands here
        const other: { type: string } = input;
        return [evt('ignored', { why: `orchestrator has no handler for ${other.type}` })];
      }
    }
  },

  evolve(s, o) {
    if (o.kind === 'command') return s;
    switch (o.type) {
      case 'run.started':
        return { ...s, plan: o.payload.plan, preset: o.payload.policy.preset };
      case 'step.started':
        return o.payload.background ? { ...s, background: put(s.background, o.payload.step, true as const) } : { ...s, cursor: o.payload.step };
      case 'step.skipped':
        return o.payload.background ? s : { ...s, cursor: o.payload.step + 1 };
      case 'steps.all_sent':
      case 'steps.paused':
        return { ...s, cursor: o.payload.cursor };
      case 'step.completed': {
        const p = o.payload;
        const completed = s.completed + 1;
        if (p.background) return { ...s, background: drop(s.background, p.step), completed };
        return { ...s, cursor: p.step + 1, vars: p.bind ? { ...s.vars, ...p.bind } : s.vars, completed };
      }
      case 'run.finished':
        return { ...s, finished: true };
      case 'ignored':
        return s;
    }
  },
};
