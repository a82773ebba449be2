import type { RateTrial } from './raw-xadd.js';

/** Keys the bare reducer's events write to (a small map, like one run's per-VM state). */
export const REDUCER_KEYS = 16;

export interface ReducerEvent {
  k: string;
  v: number;
}

export function reducerEvents(n: number): ReducerEvent[] {
  const keys = Array.from({ length: REDUCER_KEYS }, (_, i) => `vm${i}`);
  return Array.from({ length: n }, (_, i) => ({ k: keys[i % REDUCER_KEYS]!, v: i }));
}

/** Folds of the same events are repeated until at least this long has been timed: one fold of a few thousand events takes a few ms, too short to time. */
export const REDUCER_MIN_MS = 100;

/**
 * The peer of the embedded engine: a bare immutable reducer, `state = { ...state, [e.k]: e.v }` per
 * event, nothing else; the fold over the events repeated (from an empty state each time) until
 * REDUCER_MIN_MS have passed.
 */
export function bareReducer(events: readonly ReducerEvent[]): RateTrial & { folds: number } {
  let n = 0;
  let folds = 0;
  let keys = 0;
  const t = performance.now();
  do {
    let state: Record<string, number> = {};
    for (const e of events) state = { ...state, [e.k]: e.v };
    keys += Object.keys(state).length;
    n += events.length;
    folds++;
  } while (performance.now() - t < REDUCER_MIN_MS);
  const ms = performance.now() - t;
  if (keys > REDUCER_KEYS * folds) throw new Error('unreachable');
  return { entries: n, ms, rate: (n / ms) * 1000, folds };
}

/** The same with a JSON round trip per event (what encoding and decoding a log entry adds). */
export function bareReducerJson(events: readonly ReducerEvent[]): RateTrial {
  let state: Record<string, number> = {};
  const t = performance.now();
  for (const e of events) {
    const d = JSON.parse(JSON.stringify(e)) as ReducerEvent;
    state = { ...state, [d.k]: d.v };
  }
  const ms = performance.now() - t;
  if (Object.keys(state).length > REDUCER_KEYS) throw new Error('unreachable');
  return { entries: events.length, ms, rate: (events.length / ms) * 1000 };
}
