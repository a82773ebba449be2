import { PRESET_KERNELS, type ChaosParams, type Component, type LogEntry, type LogLevel, type ResolvedPolicy, type StepCompleted, isEvent } from '../../contracts/src/index.js';
import { checkHistory, type Violation } from '../../checkers/src/index.js';

/** One step's outcome. Humans see it as `steps[scenarioIndex] plan[step]` (timeline.ts stepLabel). */
export interface StepOutcome {
  /** position in the run's plan (setup first, workload woven in): the log's `step` fields */
  step: number;
  phase: StepCompleted['phase'];
  /** position in the scenario file's `steps` (or `workload`) list; null for setup */
  scenarioIndex: number | null;
  op: string;
  /** what the step returned: ok, an errno name, oops, or timeout (then `ret` is meaningless: 0) */
  result: string;
  ret: number;
  value?: unknown;
  expected: string | null;
  asExpected: boolean;
  seq: number;
}

/** A line of the kernel's log (a `dmesg` event of the component that printed it), in log order. */
export interface DmesgLine {
  component: Component;
  /** the log sequence of the event */
  seq: number;
  level: LogLevel;
  /** the kernel function that printed it */
  fn: string;
  text: string;
}

/** The kernel's log of a run: every component's `dmesg` events, in log order. */
export function dmesgOf(entries: LogEntry[]): DmesgLine[] {
  const lines: DmesgLine[] = [];
  for (const e of entries) {
    if (e.kind !== 'event' || e.type !== 'dmesg') continue;
    const p = e.payload as { level: LogLevel; fn: string; text: string };
    lines.push({ component: e.component, seq: e.seq, level: p.level, fn: p.fn, text: p.text });
  }
  return lines;
}

/** The `--json` object of `run` (DESIGN.md §6). */
export interface RunReport {
  runId: string;
  scenario: { name: string; file?: string };
  /** `kernel`: the host kernel the preset runs on (PRESET_KERNELS, DOMAIN.md §7.1) */
  policy: { preset: string; kernel: string; overrides: Record<string, unknown> };
  engine: 'cluster' | 'embedded';
  seed: number;
  verdict: 'pass' | 'fail';
  violations: Violation[];
  checked: string[];
  outcomes: StepOutcome[];
  /** what the kernel printed (DOMAIN.md §7.13) */
  dmesg: DmesgLine[];
  stats: { entries: number; inputs: number; commands: number; events: number; wallMs: number; [k: string]: number };
  reproduce: string;
  /** a chaos run's fault parameters, as its run.start recorded them */
  chaos?: ChaosParams;
}

/** The fault parameters a chaos run recorded in its first entry (run.start), if it is one. */
export function chaosOf(entries: readonly LogEntry[]): ChaosParams | undefined {
  const first = entries[0];
  if (!first || first.kind !== 'input' || first.type !== 'run.start') return undefined;
  return ((first.payload as { payload?: { chaos?: ChaosParams } }).payload)?.chaos;
}

export function buildReport(args: {
  runId: string; entries: LogEntry[]; scenario: { name: string; file?: string }; policy: ResolvedPolicy;
  engine: 'cluster' | 'embedded'; seed: number; wallMs: number; reproduce: string; extraStats?: Record<string, number>;
}): RunReport {
  const { entries } = args;
  const { checked, violations } = checkHistory(entries);
  const outcomes: StepOutcome[] = entries
    .filter((e) => isEvent(e, 'orchestrator', 'step.completed'))
    .map((e) => {
      const p = e.payload;
      return {
        step: p.step, phase: p.phase, scenarioIndex: p.scenarioIndex, op: p.op, result: p.got, ret: p.outcome.ret,
        ...(p.outcome.value !== undefined ? { value: p.outcome.value } : {}), expected: p.expected, asExpected: p.asExpected, seq: e.seq,
      };
    });
  const count = (k: string) => entries.filter((e) => e.kind === k).length;
  return {
    runId: args.runId, scenario: args.scenario,
    policy: { preset: args.policy.preset, kernel: PRESET_KERNELS[args.policy.preset].kernel, overrides: args.policy.overrides },
    engine: args.engine, seed: args.seed, verdict: violations.length ? 'fail' : 'pass', violations, checked, outcomes, dmesg: dmesgOf(entries),
    stats: { entries: entries.length, inputs: count('input'), commands: count('command'), events: count('event'), wallMs: args.wallMs, ...args.extraStats },
    reproduce: args.reproduce,
    ...(chaosOf(entries) ? { chaos: chaosOf(entries) } : {}),
  };
}
