import type { Redis } from 'ioredis';
import type { AppendBatch } from '../../event-log/src/index.js';
import { memoryUsage } from './bench-redis.js';

/** XADDs per pipeline in the raw peer: the same chunk as RedisRunLog.appendMany's pipelines. */
export const RAW_PIPELINE = 1000;

export interface RateTrial {
  entries: number;
  ms: number;
  rate: number;
}

/** The JSON the log stores for each entry (head + seq + tail: `{"runId":…,"seq":n,…}`): what the raw peer writes. */
export function storedJson(batches: readonly AppendBatch[]): string[] {
  const out: string[] = [];
  let seq = 0;
  for (const b of batches) {
    for (const e of b.entries) {
      const { runId, ...rest } = e;
      out.push(JSON.stringify({ runId, seq: ++seq, ...rest }));
    }
  }
  return out;
}

/**
 * The peer of the log append: `XADD key * e <json>` of the same entries, pipelines of 1000, all sent
 * before the first reply is awaited. `json` given: the strings are ready (not timed); `batches` given:
 * the entries are JSON.stringify'd inside the timed part, as appendMany has to.
 */
export async function rawXadd(r: Redis, copies: Array<{ key: string; json?: string[]; batches?: AppendBatch[] }>): Promise<RateTrial> {
  let n = 0;
  const t = performance.now();
  for (const c of copies) {
    const json = c.json ?? storedJson(c.batches!);
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < json.length; i += RAW_PIPELINE) {
      const p = r.pipeline();
      for (const j of json.slice(i, i + RAW_PIPELINE)) p.xadd(c.key, '*', 'e', j);
      pending.push(p.exec().then((res) => {
        const err = res?.find(([e]) => e);
        if (err) throw err[0];
      }));
    }
    await Promise.all(pending);
    n += json.length;
  }
  const ms = performance.now() - t;
  return { entries: n, ms, rate: (n / ms) * 1000 };
}

/** Bytes per entry of a plain stream. */
export async function rawBytesPerEntry(r: Redis, key: string): Promise<number> {
  const n = await r.xlen(key);
  return (await memoryUsage(r, key)) / Math.max(1, n);
}

/** Copies a run's stream, entry JSON as stored, into a plain stream with auto ids (the raw peer of its memory). */
export async function copyRaw(r: Redis, from: string, to: string): Promise<void> {
  let start = '-';
  for (;;) {
    const rows = (await r.xrange(from, start, '+', 'COUNT', RAW_PIPELINE)) as Array<[string, string[]]>;
    if (!rows.length) return;
    const p = r.pipeline();
    for (const [, f] of rows) p.xadd(to, '*', 'e', f[1]!);
    await p.exec();
    if (rows.length < RAW_PIPELINE) return;
    start = `(${rows[rows.length - 1]![0]}`;
  }
}
