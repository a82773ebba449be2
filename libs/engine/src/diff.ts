import { COMPONENTS, isEvent, isInput, type Component, type Envelope, type LogEntry } from '../../contracts/src/index.js';
import { checkHistory } from '../../checkers/src/index.js';

/**
 * How two runs are compared.
 * - `behaviour` (the default): per component, in that component's consumption order: its i-th input
 *   in A against its i-th input in B, each with the outputs it caused and the state hash after it.
 *   Two runs of one scenario that only interleave differently (two seeds, a cluster run and an
 *   embedded run) are identical.
 * - `strict`: the global interleaving, entry by entry, as the logs were written.
 * Both set aside what always differs between runs: run ids (also inside correlation ids), timestamps,
 * and in `behaviour` sequence numbers and Lamport clocks (both follow the global schedule).
 */
export type DiffMode = 'behaviour' | 'strict';

/** Where one component's behaviour first differs between A and B. */
export interface ComponentDivergence {
  component: Component;
  /** the input's position in the component's consumption order (1-based) */
  position: number;
  /** that input's log sequence in A and in B (null: the run consumed fewer inputs) */
  seq: { a: number | null; b: number | null };
  /** what differs: `input differs`, `output 1 differs`, `outputs differ (A 3, B 1)`, `state hash differs`, `no input in B` */
  what: string;
  /** the first entries that differ (the input itself, or the first differing output) */
  a: LogEntry | null;
  b: LogEntry | null;
}

export interface ComponentComparison {
  component: Component;
  /** inputs consumed in A and in B */
  inputs: { a: number; b: number };
  divergence?: ComponentDivergence;
}

export interface RunDiff {
  mode: DiffMode;
  identical: boolean;
  /**
   * The first divergence: in `strict`, the first position where the logs differ; in `behaviour`, the
   * component divergence whose differing entry comes first in A (then B), with its component,
   * position and what differs.
   */
  first?: { seq: number; a: LogEntry | null; b: LogEntry | null } & Partial<Pick<ComponentDivergence, 'component' | 'position' | 'what'>>;
  /** `behaviour` only: one row per component */
  components?: ComponentComparison[];
  /**
   * `behaviour` only: whether state hashes were compared. A component's state holds the policy, so
   * hashes are compared only when both runs have the same scenario and policy (the seed aside).
   */
  stateHashes?: { compared: boolean; why: string };
  /** scenario steps whose outcome differs */
  outcomes: Array<{ step: number; op: string; a: string | null; b: string | null }>;
  /** invariants violated in one run and not the other */
  violations: { onlyA: string[]; onlyB: string[] };
  /** after the first divergence (per component in `behaviour`): entries per component/type that one run has more of */
  after: Array<{ key: string; a: number; b: number }>;
  lengths: { a: number; b: number };
}

/**
 * The entries that carry the run's configuration (policy, seed, topology): the run's start and
 * everything a `run.open` caused. They are compared without their payload.
 */
function configEntries(es: LogEntry[]): Set<LogEntry> {
  const opens = new Set(es.filter((e) => e.kind === 'command' && e.type === 'run.open').map((e) => e.eventId));
  return new Set(es.filter((e) => e.type === 'run.start' || e.type === 'run.started' || (e.causationId !== null && opens.has(e.causationId)) || opens.has(e.eventId)));
}

/** An entry as text without what always differs between runs: its run id and its timestamp. */
function norm(e: LogEntry, config: Set<LogEntry>): string {
  const { ts: _ts, runId, ...rest } = e;
  // state hashes hold the policy too: diff compares behaviour (replay is what compares states)
  const { stateHash: _h, ...behaviour } = rest;
  if (config.has(e)) return JSON.stringify({ ...behaviour, payload: null }).split(runId).join('<run>');
  return JSON.stringify(behaviour).split(runId).join('<run>');
}

/** `x` with every string that is the run id, or starts with it (`<run>/step-3`), rewritten to `<run>`. */
function withoutRunId(x: unknown, runId: string): unknown {
  if (typeof x === 'string') return x === runId ? '<run>' : x.startsWith(`${runId}/`) ? `<run>${x.slice(runId.length)}` : x;
  if (Array.isArray(x)) return x.map((v) => withoutRunId(v, runId));
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, withoutRunId(v, runId)]));
  return x;
}

/**
 * An entry's behaviour as text: no run id, timestamp, sequence, Lamport clock or state hash (compared
 * apart); an input's envelope without its run id and Lamport clock. Event ids stay: they are
 * `<lane>.<n>`, the component's own output counter (libs/engine/src/runtime.ts), so they follow the
 * component's consumption order and not the global one, and name the same output in both runs.
 */
function behaviourOf(e: LogEntry, config: Set<LogEntry>): string {
  const { ts: _ts, runId, seq: _seq, lamport: _l, stateHash: _h, ...rest } = e;
  let payload = e.payload;
  if (config.has(e)) payload = null;
  else if (e.kind === 'input' && payload && typeof payload === 'object') {
    const { runId: _r, lamport: _pl, ...env } = payload as Envelope;
    payload = env;
  }
  return JSON.stringify(withoutRunId({ ...rest, payload }, runId));
}

/** One consumed input and what it caused. */
interface Decision {
  input: LogEntry | null;
  outputs: LogEntry[];
}

/** Each component's decisions in its consumption order (a decision's entries are appended together). */
function decisionsByComponent(es: LogEntry[]): Map<Component, Decision[]> {
  const m = new Map<Component, Decision[]>(COMPONENTS.map((c) => [c, []]));
  for (const e of es) {
    const ds = m.get(e.component)!;
    if (e.kind === 'input') ds.push({ input: e, outputs: [] });
    else if (ds.length) ds[ds.length - 1]!.outputs.push(e);
    // an output before any input of its component: keep it visible rather than drop it
    else ds.push({ input: null, outputs: [e] });
  }
  return m;
}

/** The scenario and policy a run was started with (the seed aside), as text; null if the log has no start. */
function configurationOf(es: LogEntry[]): { scenario: string; policy: string } | null {
  const start = es.find((e) => isInput(e, 'orchestrator', 'run.start'));
  if (!start) return null;
  const p = start.payload.payload;
  return { scenario: JSON.stringify(p.scenario), policy: JSON.stringify(p.policy) };
}

/** State hashes say something about behaviour only when both runs started from the same scenario and policy. */
function hashesComparable(a: LogEntry[], b: LogEntry[]): { compared: boolean; why: string } {
  const [x, y] = [configurationOf(a), configurationOf(b)];
  if (!x || !y) return { compared: false, why: 'a log has no run.start' };
  if (x.scenario !== y.scenario) return { compared: false, why: 'the scenarios differ' };
  if (x.policy !== y.policy) return { compared: false, why: 'the policies differ, and a state holds its policy' };
  return { compared: true, why: 'same scenario and policy' };
}

function compareDecisions(
  c: Component, k: number, da: Decision | undefined, db: Decision | undefined,
  ctx: { ca: Set<LogEntry>; cb: Set<LogEntry>; hashes: boolean },
): ComponentDivergence | undefined {
  const at = (what: string, a: LogEntry | null, b: LogEntry | null): ComponentDivergence => ({
    component: c, position: k + 1, seq: { a: da?.input?.seq ?? null, b: db?.input?.seq ?? null }, what, a, b,
  });
  if (!da || !db) {
    const only = (da ?? db)!;
    return at(da ? 'no input in B' : 'no input in A', da ? (only.input ?? only.outputs[0]!) : null, db ? (only.input ?? only.outputs[0]!) : null);
  }
  const [ia, ib] = [da.input, db.input];
  if ((ia ? behaviourOf(ia, ctx.ca) : '') !== (ib ? behaviourOf(ib, ctx.cb) : '')) return at('input differs', ia, ib);
  const n = Math.max(da.outputs.length, db.outputs.length);
  for (let j = 0; j < n; j++) {
    const [oa, ob] = [da.outputs[j], db.outputs[j]];
    if (!oa || !ob) return at(`outputs differ (A ${da.outputs.length}, B ${db.outputs.length})`, oa ?? null, ob ?? null);
    if (behaviourOf(oa, ctx.ca) !== behaviourOf(ob, ctx.cb)) return at(`output ${j + 1} differs`, oa, ob);
  }
  if (ctx.hashes && ia && ib && ia.stateHash !== ib.stateHash) return at('state hash differs', ia, ib);
  return undefined;
}

function outcomes(es: LogEntry[]): Map<number, { op: string; got: string }> {
  const m = new Map<number, { op: string; got: string }>();
  for (const e of es) {
    if (isEvent(e, 'orchestrator', 'step.completed')) {
      const p = e.payload;
      m.set(p.step, { op: p.op, got: p.got });
    }
  }
  return m;
}

function tally(es: LogEntry[], m = new Map<string, number>()): Map<string, number> {
  for (const e of es) {
    const k = `${e.component} ${e.kind} ${e.type}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

function summary(a: LogEntry[], b: LogEntry[], ta: Map<string, number>, tb: Map<string, number>): Pick<RunDiff, 'outcomes' | 'violations' | 'after' | 'lengths'> {
  const oa = outcomes(a), ob = outcomes(b);
  const steps = [...new Set([...oa.keys(), ...ob.keys()])].sort((x, y) => x - y);
  const va = new Set(checkHistory(a).violations.map((v) => v.invariant));
  const vb = new Set(checkHistory(b).violations.map((v) => v.invariant));
  const after = [...new Set([...ta.keys(), ...tb.keys()])]
    .map((key) => ({ key, a: ta.get(key) ?? 0, b: tb.get(key) ?? 0 }))
    .filter((x) => x.a !== x.b)
    .sort((x, y) => Math.abs(y.a - y.b) - Math.abs(x.a - x.b));
  return {
    outcomes: steps
      .filter((s) => oa.get(s)?.got !== ob.get(s)?.got)
      .map((s) => ({ step: s, op: (oa.get(s) ?? ob.get(s))!.op, a: oa.get(s)?.got ?? null, b: ob.get(s)?.got ?? null })),
    violations: { onlyA: [...va].filter((x) => !vb.has(x)), onlyB: [...vb].filter((x) => !va.has(x)) },
    after,
    lengths: { a: a.length, b: b.length },
  };
}

/** Today's comparison: the two logs entry by entry, in the order they were written. */
function diffStrict(a: LogEntry[], b: LogEntry[]): RunDiff {
  const [ca, cb] = [configEntries(a), configEntries(b)];
  let i = 0;
  while (i < a.length && i < b.length && norm(a[i]!, ca) === norm(b[i]!, cb)) i++;
  const identical = i === a.length && i === b.length;
  return {
    mode: 'strict',
    identical,
    ...(identical ? {} : { first: { seq: i + 1, a: a[i] ?? null, b: b[i] ?? null } }),
    ...summary(a, b, tally(a.slice(i)), tally(b.slice(i))),
  };
}

function diffBehaviour(a: LogEntry[], b: LogEntry[]): RunDiff {
  const [ca, cb] = [configEntries(a), configEntries(b)];
  const stateHashes = hashesComparable(a, b);
  const hashes = stateHashes.compared;
  const [da, db] = [decisionsByComponent(a), decisionsByComponent(b)];
  const ta = new Map<string, number>(), tb = new Map<string, number>();
  const components: ComponentComparison[] = COMPONENTS.map((c) => {
    const [xs, ys] = [da.get(c)!, db.get(c)!];
    const row: ComponentComparison = { component: c, inputs: { a: xs.filter((d) => d.input).length, b: ys.filter((d) => d.input).length } };
    for (let k = 0; k < Math.max(xs.length, ys.length); k++) {
      const d = compareDecisions(c, k, xs[k], ys[k], { ca, cb, hashes });
      if (!d) continue;
      row.divergence = d;
      const entries = (ds: Decision[]) => ds.slice(k).flatMap((x) => (x.input ? [x.input, ...x.outputs] : x.outputs));
      tally(entries(xs), ta);
      tally(entries(ys), tb);
      break;
    }
    return row;
  });
  const seqOf = (d: ComponentDivergence) => [d.a?.seq ?? Infinity, d.b?.seq ?? Infinity] as const;
  const divergences = components.flatMap((r) => (r.divergence ? [r.divergence] : []))
    .sort((x, y) => seqOf(x)[0] - seqOf(y)[0] || seqOf(x)[1] - seqOf(y)[1]);
  const f = divergences[0];
  return {
    mode: 'behaviour',
    identical: !f,
    ...(f ? { first: { seq: f.a?.seq ?? f.b!.seq, a: f.a, b: f.b, component: f.component, position: f.position, what: f.what } } : {}),
    components,
    stateHashes,
    ...summary(a, b, ta, tb),
  };
}

/** How two runs (say one scenario under v1 and under v2) differ: where each component first diverges, and what differs after. */
export function diffRuns(a: LogEntry[], b: LogEntry[], opts: { mode?: DiffMode } = {}): RunDiff {
  return (opts.mode ?? 'behaviour') === 'strict' ? diffStrict(a, b) : diffBehaviour(a, b);
}
