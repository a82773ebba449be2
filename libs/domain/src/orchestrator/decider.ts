import { COMPONENTS, type Envelope, type Preset, type ResolvedPolicy, type RunSpec } from '../../../contracts/src/index.js';
import { cmd, drop, evt, put, type Command, type Decider, type Output } from '../decider.js';
import { outcomeName, type Outcome } from '../outcome.js';
import type { RunOpen } from '../topology.js';
import { planRun, type PlannedStep } from './plan.js';

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

export interface RunStart {
  scenario: RunSpec;
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

/**
 * Sends steps from `i`: background ones without waiting, up to and including the next foreground
 * one; finishes the run when nothing is left in flight. Skips steps whose variables are unbound.
 */
/** Background ops in flight at once: a device's queue depth; keeps every component's in-flight state small. */
export const BACKGROUND_WINDOW = 32;

function dispatch(s: OrchestratorState, i: number, inFlight: number): Output[] {
  const out: Output[] = [];
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
    out.push(evt('step.started', { step: k, op: step.op, target: step.target, ...(step.background ? { background: true } : {}) }));
    if (step.op === 'quiesce') {
      // the guest stops its devices' work and waits until every background op has completed
      if (bg) return out;
      out.push(completedEvent(s, k, { ret: 0 }));
      continue;
    }
    // a step op is a type of its target's input map; the scenario loader checked its arguments
    out.push({ kind: 'command', to: step.target, type: `step.${step.op}`, payload: { step: k, ...args } } as unknown as Command);
    if (!step.background) return out;
    bg++;
  }
}

function completedEvent(s: OrchestratorState, i: number, outcome: Outcome): Output {
  const step = s.plan[i]!;
  const expected = s.preset ? expectedFor(step, s.preset) : undefined;
  const got = outcomeName(outcome);
  return evt('step.completed', {
    step: i, op: step.op, phase: step.phase, scenarioIndex: step.scenarioIndex ?? null, outcome,
    got, expected: expected ?? null, asExpected: expected === undefined || expected === got,
    bind: step.as && typeof outcome.value === 'number' && outcome.ret >= 0 ? { [step.as]: outcome.value } : null,
    ...(step.background ? { background: true } : {}),
  });
}

function complete(s: OrchestratorState, i: number, outcome: Outcome): Output[] {
  const step = s.plan[i]!;
  const done = completedEvent(s, i, outcome);
  // A host oops ends the machine: nothing after it can run. A timed-out step leaves the run stuck.
  if (outcome.oops) return [done, evt('run.finished', { reason: `host oops in ${outcome.oops}` })];
  if (step.background) {
    const left = Object.keys(s.background).filter((k) => Number(k) !== i).length;
    if (s.cursor < s.plan.length && s.plan[s.cursor]!.background) return [done, ...dispatch(s, s.cursor, left)];
    if (left) return [done];
    if (s.cursor >= s.plan.length) return [done, evt('run.finished', { reason: 'all steps done' })];
    // a quiesce step was waiting for the last background op
    if (s.plan[s.cursor]?.op === 'quiesce') {
      const q = completedEvent(s, s.cursor, { ret: 0 });
      return [done, q, ...dispatch({ ...s, cursor: s.cursor + 1 }, s.cursor + 1, 0)];
    }
    return [done];
  }
  if (outcome.timeout) return [done, evt('run.finished', { reason: `step ${i} (${step.op}) timed out` })];
  const vars = { ...s.vars, ...(done.payload as { bind: Record<string, number> | null }).bind };
  return [done, ...dispatch({ ...s, cursor: i + 1, vars }, i + 1, Object.keys(s.background).length)];
}

export const orchestratorDecider: Decider<OrchestratorState> = {
  component: 'orchestrator',
  initialState: () => ({ plan: [], cursor: 0, vars: {}, completed: 0, background: {}, finished: false }),

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
        return [started, ...opens, ...dispatch(next, 0, 0)];
      }
      case 'step.completed': {
        const i = p.step as number;
        if (s.finished) return [evt('ignored', { why: `completion of step ${i} after the run finished` })];
        if (s.background[i]) return complete(s, i, p.outcome as Outcome);
        if (i !== s.cursor) return [evt('ignored', { why: `completion of step ${i} while at step ${s.cursor}` })];
        return complete(s, i, p.outcome as Outcome);
      }
      case 'step.timeout': {
        const i = p.step as number;
        if (s.finished) return [];
        if (i === s.cursor && i < s.plan.length && !s.plan[i]!.background) return complete(s, i, { ret: 0, timeout: true });
        // quiescent with background steps that will never complete: each times out, the run ends
        const stuck = Object.keys(s.background).map(Number);
        if (!stuck.length) return [evt('run.finished', { reason: 'quiescent' })];
        return [...stuck.map((k) => completedEvent(s, k, { ret: 0, timeout: true })), evt('run.finished', { reason: `background steps ${stuck.join(', ')} timed out` })];
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
        return p.background ? { ...s, background: put(s.background, p.step as number, true as const) } : { ...s, cursor: p.step as number };
      case 'step.skipped':
        return p.background ? s : { ...s, cursor: (p.step as number) + 1 };
      case 'steps.all_sent':
      case 'steps.paused':
        return { ...s, cursor: p.cursor as number };
      case 'step.completed': {
        const completed = s.completed + 1;
        if (p.background) return { ...s, background: drop(s.background, p.step as number), completed };
        return { ...s, cursor: (p.step as number) + 1, vars: p.bind ? { ...s.vars, ...(p.bind as Record<string, number>) } : s.vars, completed };
      }
      case 'run.finished':
        return { ...s, finished: true };
      default:
        return s;
    }
  },
};
