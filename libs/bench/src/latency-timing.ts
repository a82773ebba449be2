import { mean, percentile } from './stats.js';

export interface LatencyTrial {
  p50: number;
  p99: number;
  mean: number;
  n: number;
}

export function summarize(ms: readonly number[]): LatencyTrial {
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), mean: mean(ms), n: ms.length };
}

/** `n` sequential calls of `once`: each one's time in ms. */
export async function sequentialTimes(n: number, once: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await once();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return ms;
}

/** One side of a latency comparison: `n` sequential round trips, their times in ms. */
export interface LatencySide {
  sample(n: number): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * One trial of two sides, interleaved in `blocks` alternating blocks (a, b, a, b, …) so that a change
 * in the machine's load during the trial falls on both alike; each side's percentiles over its samples.
 */
export async function interleavedTrial(a: LatencySide, b: LatencySide, n: number, blocks: number): Promise<[LatencyTrial, LatencyTrial]> {
  const sa: number[] = [];
  const sb: number[] = [];
  const per = Math.max(1, Math.round(n / blocks));
  for (let k = 0; k < blocks; k++) {
    sa.push(...(await a.sample(per)));
    sb.push(...(await b.sample(per)));
  }
  return [summarize(sa), summarize(sb)];
}
