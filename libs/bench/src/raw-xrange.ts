import type { Redis } from 'ioredis';
import type { LogEntry } from '../../contracts/src/index.js';
import type { RateTrial } from './raw-xadd.js';

/** The peer of replay: XRANGE of a stream in pages of 1000 and JSON.parse of each entry, nothing else. */
export async function rawXrange(r: Redis, key: string, page = 1000): Promise<RateTrial> {
  let n = 0;
  let start = '-';
  let sink = 0;
  const t = performance.now();
  for (;;) {
    const rows = (await r.xrange(key, start, '+', 'COUNT', page)) as Array<[string, string[]]>;
    for (const [, f] of rows) sink += (JSON.parse(f[1]!) as LogEntry).seq;
    n += rows.length;
    if (rows.length < page) break;
    start = `(${rows[rows.length - 1]![0]}`;
  }
  const ms = performance.now() - t;
  if (sink < 0) throw new Error('unreachable');
  return { entries: n, ms, rate: (n / ms) * 1000 };
}
