import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../libs/contracts/src/index.js';
import { RedisRunLog } from '../../libs/event-log/src/index.js';
import { startPrivateRedis, type PrivateRedis } from '../../libs/redis/src/index.js';
import { embeddedLoop } from './long-log.js';

const dir = mkdtempSync(join(tmpdir(), 'vsva-redis-restart-'));
let first: PrivateRedis | undefined;
let second: PrivateRedis | undefined;
let killed = false;

afterAll(async () => {
  if (!killed) await first?.stop();
  await second?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** SIGKILL: no shutdown, no final AOF rewrite; only what was fsynced before each reply survives. */
async function killHard(r: PrivateRedis): Promise<void> {
  process.kill(r.pid, 'SIGKILL');
  killed = true;
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(r.pid, 0);
    } catch {
      return;
    }
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`redis-server ${r.pid} still alive after SIGKILL`);
}

describe('a private redis-server (append-only, fsync always) killed with SIGKILL keeps every acknowledged append', () => {
  it('acknowledged entries and markers survive; a redelivered marker is still recognised; the sequence goes on', async () => {
    const runId = 'redis-restart';
    first = await startPrivateRedis({ dir, appendonly: true });
    // fail fast when the server dies, instead of queueing commands for the next one
    const opts = { prefix: 'vsvatest-rr', redis: { maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null } };
    const log = RedisRunLog.fromUrl(first.url, opts);
    log.redis.on('error', () => {});
    if (log.redis.status !== 'ready') await once(log.redis, 'ready');
    // three entries per input, as markers `m<i>` (the embedded loop's entries, renumbered by the log)
    const source = await embeddedLoop(runId, 3);
    const batch = (i: number) => source.slice(3 * i, 3 * i + 3);
    const acked = new Map<string, LogEntry[]>();
    let failures = 0;
    let lastError: Error | undefined;
    const writer = (async () => {
      for (let i = 0; 3 * i + 3 <= source.length; i++) {
        try {
          const r = await log.appendOnce(runId, `m${i}`, batch(i));
          acked.set(`m${i}`, r.entries);
        } catch (e) {
          failures++;
          lastError = e as Error;
          return;
        }
      }
    })();
    // kill it mid-stream, while appends are in flight
    while (acked.size < 300 && !failures) await new Promise((r) => setTimeout(r, 1));
    expect(lastError).toBeUndefined();
    await killHard(first);
    await writer;
    log.redis.disconnect();
    expect(failures, 'the writer was cut off by the kill').toBe(1);
    expect(lastError?.message).toMatch(/Connection is closed|ECONNRESET|ECONNREFUSED|Stream isn't writeable/);

    second = await startPrivateRedis({ dir, port: first.port, appendonly: true });
    const after = RedisRunLog.fromUrl(second.url, { prefix: opts.prefix });
    try {
      const entries = await after.read(runId);
      const bySeq = new Map(entries.map((e) => [e.seq, e]));
      for (const [marker, recorded] of acked) {
        for (const e of recorded) expect(bySeq.get(e.seq), `${marker} seq ${e.seq}`).toEqual(e);
      }
      // at most the one append in flight at the kill landed without its acknowledgement, and then whole
      expect(entries.length - 3 * acked.size).toBeOneOf([0, 3]);
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      const marks = await after.redis.hgetall(after.keys(runId).marks);
      expect(Object.keys(marks)).toHaveLength(entries.length / 3);

      // a redelivered input finds its marker: nothing appended, the recorded entries returned
      const [marker, recorded] = [...acked][150]!;
      const again = await after.appendOnce(runId, marker, batch(150));
      expect(again).toEqual({ fresh: false, entries: recorded, firstSeq: recorded[0]!.seq });
      // the sequence counter survived too: a new input lands right after the last entry
      const next = await after.appendOnce(runId, 'after-restart', [source[0]!]);
      expect(next.fresh).toBe(true);
      expect(next.entries[0]!.seq).toBe(entries.length + 1);
    } finally {
      await after.close();
    }
  });
});
