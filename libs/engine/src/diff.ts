import type { LogEntry } from '../../contracts/src/index.js';
import { checkHistory } from '../../checkers/src/index.js';

export interface RunDiff {
  identical: boolean;
  /** the first position where the two logs differ (timestamps and run ids aside) */
  first?: { seq: number; a: LogEntry | null; b: LogEntry | null };
  /** scenario steps whose outcome differs */
  outcomes: Array<{ step: number; op: string; a: string | null; b: string | null }>;
  /** invariants violated in one run and not the other */
  violations: { onlyA: string[]; onlyB: string[] };
  /** after the first divergence: entries per component/type that one run has more of */
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

function outcomes(es: LogEntry[]): Map<number, { op: string; got: string }> {
  const m = new Map<number, { op: string; got: string }>();
  for (const e of es) {
    if (e.kind === 'event' && e.component === 'orchestrator' && e.type === 'step.completed') {
      const p = e.payload as { step: number; op: string; got: string };
      m.set(p.step, { op: p.op, got: p.got });
    }
  }
  return m;
}

function tally(es: LogEntry[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of es) {
    const k = `${e.component} ${e.kind} ${e.type}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** Where two runs (say one scenario under v1 and under v2) first diverge, and what differs after. */
export function diffRuns(a: LogEntry[], b: LogEntry[]): RunDiff {
  const [ca, cb] = [configEntries(a), configEntries(b)];
  let i = 0;
  while (i < a.length && i < b.length && norm(a[i]!, ca) === norm(b[i]!, cb)) i++;
  const identical = i === a.length && i === b.length;
  const oa = outcomes(a), ob = outcomes(b);
  const steps = [...new Set([...oa.keys(), ...ob.keys()])].sort((x, y) => x - y);
  const va = new Set(checkHistory(a).violations.map((v) => v.invariant));
  const vb = new Set(checkHistory(b).violations.map((v) => v.invariant));
  const ta = tally(a.slice(i)), tb = tally(b.slice(i));
  const after = [...new Set([...ta.keys(), ...tb.keys()])]
    .map((key) => ({ key, a: ta.get(key) ?? 0, b: tb.get(key) ?? 0 }))
    .filter((x) => x.a !== x.b)
    .sort((x, y) => Math.abs(y.a - y.b) - Math.abs(x.a - x.b));
  return {
    identical,
    ...(identical ? {} : { first: { seq: i + 1, a: a[i] ?? null, b: b[i] ?? null } }),
    outcomes: steps
      .filter((s) => oa.get(s)?.got !== ob.get(s)?.got)
      .map((s) => ({ step: s, op: (oa.get(s) ?? ob.get(s))!.op, a: oa.get(s)?.got ?? null, b: ob.get(s)?.got ?? null })),
    violations: { onlyA: [...va].filter((x) => !vb.has(x)), onlyB: [...vb].filter((x) => !va.has(x)) },
    after,
    lengths: { a: a.length, b: b.length },
  };
}
