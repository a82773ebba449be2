import { COMPONENTS, isComponent, type Component } from '../../../contracts/src/index.js';
import { prngStream } from '../../../engine/src/index.js';

/**
 * What the cluster's nemesis does (issue 11), each at a point of the run's log:
 *  - kill: SIGKILL a service, restart it (BullMQ redelivers its active job once the lock lapses);
 *  - pause: SIGSTOP a service longer than its job lock, then SIGCONT (its job is redelivered);
 *  - delay: SIGSTOP a service shorter than half its lock: its deliveries wait while the others go on;
 *  - redis: SIGKILL the redis-server, restart it on its port from its append-only file;
 *  - disconnect: drop a service's Redis connections (it reconnects);
 *  - duplicate: deliver an input the service already consumed once more, under a new job id;
 *  - crash: SIGKILL a service right after it records an input, restart it (rebuilt from snapshot + log).
 */
export const NEMESIS_KINDS = ['kill', 'pause', 'redis', 'disconnect', 'duplicate', 'delay', 'crash'] as const;
export type NemesisKind = (typeof NEMESIS_KINDS)[number];
export type NemesisTarget = Component | 'redis';

export interface NemesisAction {
  /** acts once the run's log holds this many entries (for `crash`: at the target's first input from there) */
  atSeq: number;
  kind: NemesisKind;
  target: NemesisTarget;
  /** how long the fault lasts: a pause or delay's stop; for kill, crash and redis the time down before the restart (default 0) */
  forMs?: number;
}

/** A run's faults, replayable: `chaos --schedule F` acts them again at the same log positions. */
export interface NemesisSchedule {
  version: 1;
  seed: number;
  actions: NemesisAction[];
}

/**
 * The job timing the chaos cluster runs its services with, and what a pause and a delay mean against
 * it. A running job's lock is renewed every lockMs / 2, so it always has at least that much left: a
 * stop shorter than that never loses it (a delay), and one longer than lockMs always does (a pause).
 * Short, so that a pause or a redelivery costs a few seconds of a run, not BullMQ's 30.
 */
export const NEMESIS_TIMING = {
  lockMs: 1500,
  stalledMs: 500,
  /** drawn pause lengths, ms */
  pauseMs: [2500, 4000],
  /** drawn delay lengths, ms */
  delayMs: [100, 700],
  /** the longest time anything may stay down (a schedule file's forMs) */
  maxForMs: 30_000,
} as const;

/** Schedules draw from PRNG streams of their own, never the embedded scheduler's (0) or its faults' (1). */
const NEMESIS_STREAM = 0x4e454d; // 'NEM'
const FILL_STREAM = NEMESIS_STREAM + 1;

export interface DrawOptions {
  /** the run's expected log length (a fault-free embedded run of the scenario) */
  entries: number;
  /** kinds that get at least one action, placed between 5% and 90% of the run when no rate drew one */
  atLeastOnce?: readonly NemesisKind[];
}

/**
 * A schedule as a function of (seed, rates, entries): at each log position 1..entries, each kind
 * fires with its rate, on a target drawn from the seed. Every position draws the same number of
 * values whatever the rates, so turning one kind on or off leaves the others' actions where they were.
 */
export function drawSchedule(seed: number, rates: Partial<Record<NemesisKind, number>>, o: DrawOptions): NemesisSchedule {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${String(seed)}`);
  if (!Number.isSafeInteger(o.entries) || o.entries < 1) throw new RangeError(`entries must be a positive integer, got ${String(o.entries)}`);
  for (const [k, p] of Object.entries(rates)) {
    if (!isKind(k)) throw new RangeError(`rates: unknown fault kind '${k}' (accepted: ${NEMESIS_KINDS.join(', ')})`);
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`rates.${k} must be a probability (0 to 1), got ${String(p)}`);
  }
  for (const k of o.atLeastOnce ?? []) if (!isKind(k)) throw new RangeError(`atLeastOnce: unknown fault kind '${String(k)}' (accepted: ${NEMESIS_KINDS.join(', ')})`);

  const actions: NemesisAction[] = [];
  const rand = prngStream(seed, NEMESIS_STREAM);
  for (let seq = 1; seq <= o.entries; seq++) {
    for (const kind of NEMESIS_KINDS) {
      const [fire, t, f] = [rand(), rand(), rand()];
      if (fire < (rates[kind] ?? 0)) actions.push(action(seq, kind, t, f));
    }
  }
  const fill = prngStream(seed, FILL_STREAM);
  const lo = Math.max(1, Math.floor(o.entries * 0.05));
  const hi = Math.max(lo, Math.floor(o.entries * 0.9));
  for (const kind of NEMESIS_KINDS) {
    const [at, t, f] = [fill(), fill(), fill()];
    if (o.atLeastOnce?.includes(kind) && !actions.some((a) => a.kind === kind)) actions.push(action(lo + Math.floor(at * (hi - lo + 1)), kind, t, f));
  }
  return { version: 1, seed, actions: byPosition(actions) };
}

function action(atSeq: number, kind: NemesisKind, t: number, f: number): NemesisAction {
  const target = kind === 'redis' ? 'redis' : COMPONENTS[Math.floor(t * COMPONENTS.length)]!;
  const range = kind === 'pause' ? NEMESIS_TIMING.pauseMs : kind === 'delay' ? NEMESIS_TIMING.delayMs : undefined;
  return range ? { atSeq, kind, target, forMs: range[0] + Math.floor(f * (range[1] - range[0] + 1)) } : { atSeq, kind, target };
}

/** In log order; actions at one position keep their order (a stable sort). */
const byPosition = (as: NemesisAction[]) => as.map((a, i) => [a, i] as const).sort((x, y) => x[0].atSeq - y[0].atSeq || x[1] - y[1]).map(([a]) => a);

const isKind = (k: unknown): k is NemesisKind => typeof k === 'string' && (NEMESIS_KINDS as readonly string[]).includes(k);

/** A schedule file that cannot be used: names the file, the field and what it accepts (exit 2). */
export class ScheduleError extends Error {
  constructor(readonly file: string, readonly field: string, problem: string, readonly accepted: string) {
    super(`${file}: ${field}: ${problem}; accepted: ${accepted}`);
    this.name = 'ScheduleError';
  }
}

const ACTION_FIELDS = ['atSeq', 'kind', 'target', 'forMs'];
const TOP_FIELDS = ['version', 'seed', 'actions'];

/** Reads a schedule file (JSON, as drawSchedule's result is written); a bad one is a ScheduleError. */
export function parseSchedule(text: string, file: string): NemesisSchedule {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ScheduleError(file, '(file)', `not JSON (${(e as Error).message})`, `a JSON object { "version": 1, "seed": <integer>, "actions": [...] }`);
  }
  return scheduleOf(doc, file);
}

/** A schedule as a value (parsed JSON, or built by a caller), checked field by field; `file` names where it came from. */
export function scheduleOf(doc: unknown, file: string): NemesisSchedule {
  const top = record(doc, file, '(file)', TOP_FIELDS, `a JSON object with ${TOP_FIELDS.join(', ')}`);
  if (top.version !== 1) throw new ScheduleError(file, 'version', `got ${show(top.version)}`, '1');
  if (!Number.isSafeInteger(top.seed)) throw new ScheduleError(file, 'seed', `got ${show(top.seed)}`, 'an integer');
  if (!Array.isArray(top.actions)) throw new ScheduleError(file, 'actions', `got ${show(top.actions)}`, `an array of { ${ACTION_FIELDS.join(', ')} }`);
  const actions = top.actions.map((raw, i) => parseAction(raw, file, `actions[${i}]`));
  return { version: 1, seed: top.seed as number, actions: byPosition(actions) };
}

function parseAction(raw: unknown, file: string, at: string): NemesisAction {
  const a = record(raw, file, at, ACTION_FIELDS, `an object { ${ACTION_FIELDS.join(', ')} }`);
  if (!Number.isSafeInteger(a.atSeq) || (a.atSeq as number) < 1) throw new ScheduleError(file, `${at}.atSeq`, `got ${show(a.atSeq)}`, 'a positive integer (a position in the run\'s log, from 1)');
  if (!isKind(a.kind)) throw new ScheduleError(file, `${at}.kind`, `unknown fault kind ${show(a.kind)}`, NEMESIS_KINDS.join(', '));
  const kind = a.kind;
  if (kind === 'redis') {
    if (a.target !== 'redis') throw new ScheduleError(file, `${at}.target`, `got ${show(a.target)} for kind redis`, "'redis'");
  } else if (!isComponent(a.target)) {
    throw new ScheduleError(file, `${at}.target`, `got ${show(a.target)} for kind ${kind}`, COMPONENTS.join(', '));
  }
  const out: NemesisAction = { atSeq: a.atSeq as number, kind, target: a.target as NemesisTarget };
  if (a.forMs !== undefined) out.forMs = parseFor(kind, a.forMs, file, `${at}.forMs`);
  return out;
}

/** forMs against the cluster's lock: a pause must lose its job's lock, a delay must keep it. */
function parseFor(kind: NemesisKind, v: unknown, file: string, field: string): number {
  const { lockMs, maxForMs } = NEMESIS_TIMING;
  const ms = (lo: number, hi: number, why: string) => {
    if (!Number.isSafeInteger(v) || (v as number) < lo || (v as number) > hi) throw new ScheduleError(file, field, `got ${show(v)} for kind ${kind}`, `an integer from ${lo} to ${hi} ms (${why})`);
    return v as number;
  };
  switch (kind) {
    case 'pause':
      return ms(lockMs + 1, maxForMs, `longer than the job lock of ${lockMs} ms; a shorter stop is a 'delay'`);
    case 'delay':
      return ms(1, Math.floor(lockMs / 2) - 1, `shorter than half the job lock of ${lockMs} ms, so the job keeps it; a longer stop is a 'pause'`);
    case 'kill':
    case 'crash':
    case 'redis':
      return ms(0, maxForMs, 'how long it stays down before the restart');
    default:
      throw new ScheduleError(file, field, `a ${kind} does not last`, 'no forMs for disconnect and duplicate');
  }
}

function record(v: unknown, file: string, field: string, fields: string[], what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ScheduleError(file, field, `got ${show(v)}`, what);
  const extra = Object.keys(v).filter((k) => !fields.includes(k));
  if (extra.length) throw new ScheduleError(file, `${field === '(file)' ? '' : `${field}.`}${extra[0]}`, 'unknown field', fields.join(', '));
  return v as Record<string, unknown>;
}

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v)?.slice(0, 60) ?? String(v));
