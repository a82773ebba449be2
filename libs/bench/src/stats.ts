import type { Goal, Spread } from './types.js';

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of sorted or unsorted samples (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export function spreadOf(trials: readonly number[]): Spread {
  const med = median(trials);
  const min = Math.min(...trials);
  const max = Math.max(...trials);
  return { median: med, min, max, relSpread: med ? (max - min) / Math.abs(med) : 0, trials: [...trials] };
}

export const atLeast = (value: number): Goal => ({ op: '>=', value, text: `>= ${value}` });
export const atMost = (value: number): Goal => ({ op: '<=', value, text: `<= ${value}` });

export function meets(goal: Goal | null, ratio: number): boolean | null {
  if (!goal || !Number.isFinite(ratio)) return null;
  return goal.op === '>=' ? ratio >= goal.value : ratio <= goal.value;
}

/** Rounds for JSON: 3 significant digits at least, integers kept. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  const mag = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x) || 1)));
  return Number(x.toFixed(Math.min(mag, 6)));
}

/** Elapsed milliseconds since `t0` (from `now()`). */
export const now = () => performance.now();

/**
 * Events per second over the central part of a set of completion timestamps (ms): the first and last
 * `trim` fraction are left out, so that ramp-up and the tail (the last queue draining alone) do not
 * count. Used alike for the cluster (input entries' `ts`) and its BullMQ peer (workers' clocks).
 */
export function centralRate(ts: number[], trim = 0.1): { rate: number; counted: number; windowMs: number } {
  const s = [...ts].sort((a, b) => a - b);
  const lo = Math.floor(s.length * trim);
  const hi = Math.max(lo + 1, Math.ceil(s.length * (1 - trim)) - 1);
  const windowMs = Math.max(1, s[hi]! - s[lo]!);
  const counted = hi - lo;
  return { rate: (counted / windowMs) * 1000, counted, windowMs };
}
