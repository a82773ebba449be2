import { COMPONENTS, type Envelope, type Preset, type ResolvedPolicy } from '../../../contracts/src/index.js';
import type { Scenario } from '../../../scenario/src/schema.js';
import { cmd, evt, type Decider, type Output } from '../decider.js';
import { outcomeName, type Outcome } from '../outcome.js';
import type { RunOpen } from '../topology.js';
import { planRun, type PlannedStep } from './plan.js';

/** The run itself: a cursor over the planned steps, one in flight at a time. */
export interface OrchestratorState {
  preset?: Preset;
  plan: PlannedStep[];
  cursor: number;
  vars: Record<string, number>;
  outcomes: Array<{ step: number; outcome: Outcome }>;
  finished: boolean;
}

export interface RunStart {
  scenario: Scenario;
  policy: ResolvedPolicy;
  seed: number;
}

function expectedFor(step: PlannedStep, preset: Preset): string | undefined {
  const e = step.expect;
  if (e === undefined) return undefined;
  if (typeof e === 'string') return e;
  return e[preset] ?? e.default;
}

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

/** Sends step `i`, or finishes the run when there is none; skips steps whose variables are unbound. */
function dispatch(s: OrchestratorState, i: number): Output[] {
  if (i >= s.plan.length) return [evt('run.finished', { reason: 'all steps done' })];
  const step = s.plan[i]!;
  const args = resolveArgs(step.args, s.vars);
  if (typeof args === 'string') {
    return [evt('step.skipped', { step: i, why: args }), ...dispatch({ ...s, cursor: i + 1 }, i + 1)];
  }
  return [evt('step.started', { step: i, op: step.op, target: step.target }), cmd(step.target, `step.${step.op}`, { step: i, ...args })];
}

function complete(s: OrchestratorState, i: number, outcome: Outcome): Output[] {
  const step = s.plan[i]!;
  const expected = s.preset ? expectedFor(step, s.preset) : undefined;
  const got = outcomeName(outcome);
  const done = evt('step.completed', {
    step: i, op: step.op, phase: step.phase, scenarioIndex: step.scenarioIndex ?? null, outcome,
    got, expected: expected ?? null, asExpected: expected === undefined || expected === got,
    bind: step.as && typeof outcome.value === 'number' && outcome.ret >= 0 ? { [step.as]: outcome.value } : null,
  });
  // A host oops ends the machine: nothing after it can run. A timed-out step leaves the run stuck.
  if (outcome.oops) return [done, evt('run.finished', { reason: `host oops in ${outcome.oops}` })];
  if (outcome.timeout) return [done, evt('run.finished', { reason: `step ${i} (${step.op}) timed out` })];
  return [done, ...dispatch({ ...s, cursor: i + 1, vars: { ...s.vars, ...(done.payload.bind as Record<string, number> | null) } }, i + 1)];
}

export const orchestratorDecider: Decider<OrchestratorState> = {
  component: 'orchestrator',
  initialState: () => ({ plan: [], cursor: 0, vars: {}, outcomes: [], finished: false }),

  decide(s, input: Envelope): Output[] {
    const p = input.payload as Record<string, unknown>;
    switch (input.type) {
      case 'run.start': {
        if (s.plan.length) return [evt('ignored', { why: 'run already started' })];
        const start = p as unknown as RunStart;
        const plan = planRun(start.scenario);
        const open: RunOpen = {
          preset: start.policy.preset,
          policy: start.policy.values,
          topology: { host: start.scenario.host, parents: start.scenario.parents, vms: start.scenario.vms },
        };
        const started = evt('run.started', { scenario: start.scenario.name, policy: start.policy, seed: start.seed, plan });
        const opens = COMPONENTS.filter((c) => c !== 'orchestrator').map((c) => cmd(c, 'run.open', { ...open }));
        const next = { ...s, plan, preset: start.policy.preset };
        return [started, ...opens, ...dispatch(next, 0)];
      }
      case 'step.completed': {
        const i = p.step as number;
        if (s.finished || i !== s.cursor) return [evt('ignored', { why: `completion of step ${i} while at step ${s.cursor}` })];
        return complete(s, i, p.outcome as Outcome);
      }
      case 'step.timeout': {
        const i = p.step as number;
        if (s.finished || i !== s.cursor) return [];
        return complete(s, i, { ret: 0, timeout: true });
      }
      default:
        return [evt('ignored', { why: `orchestrator has no handler for ${input.type}` })];
    }
  },

  evolve(s, o): OrchestratorState {
    if (o.kind !== 'event') return s;
    const p = o.payload;
    switch (o.type) {
      case 'run.started':
        return { ...s, plan: p.plan as PlannedStep[], preset: (p.policy as ResolvedPolicy).preset };
      case 'step.started':
        return { ...s, cursor: p.step as number };
      case 'step.skipped':
        return { ...s, cursor: (p.step as number) + 1 };
      case 'step.completed':
        return {
          ...s,
          cursor: (p.step as number) + 1,
          vars: p.bind ? { ...s.vars, ...(p.bind as Record<string, number>) } : s.vars,
          outcomes: [...s.outcomes, { step: p.step as number, outcome: p.outcome as Outcome }],
        };
      case 'run.finished':
        return { ...s, finished: true };
      default:
        return s;
    }
  },
};
