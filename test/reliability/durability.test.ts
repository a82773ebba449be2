import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { productRedis } from '../../libs/cluster/src/index.js';
import { loadConfig } from '../../libs/config/src/index.js';
import { SCHEMA_VERSION, type NewLogEntry } from '../../libs/contracts/src/index.js';
import { RedisRunLog } from '../../libs/event-log/src/index.js';
import { startPrivateRedis, type PrivateRedis } from '../../libs/redis/src/index.js';

// Issue 14 point 4: the redis-server the product starts keeps every acknowledged append when it is
// SIGKILLed (the chaos nemesis does that to it), under its default fsync policy; the other policy is an
// option (VSVA_REDIS_FSYNC), and what each costs is in BENCHMARKS.md.

let redis: PrivateRedis | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await redis?.stop();
  redis = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const fsyncOf = async (r: PrivateRedis) => {
  const c = new Redis(r.url);
  const [, v] = (await c.config('GET', 'appendfsync')) as [string, string];
  c.disconnect();
  return v;
};
const entry = (runId: string, i: number): NewLogEntry => ({
  runId, eventId: `e.${i}`, kind: 'event', type: 'dmesg', component: 'host-vtd', causationId: 'c', correlationId: runId,
  lamport: i, payload: { level: 'info', fn: 'durability', text: `line ${i}` }, schemaVersion: SCHEMA_VERSION,
});

describe('the product\'s redis-server', () => {
  it('by default fsyncs every write, and a SIGKILL right after the last acknowledged append loses none of them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsva-durability-'));
    dirs.push(dir);
    const opts = productRedis(loadConfig({}));
    expect(opts).toEqual({ appendonly: true, appendfsync: 'always' });
    redis = await startPrivateRedis({ dir, ...opts });
    expect(await fsyncOf(redis)).toBe('always');
    const runId = 'durable';
    const log = RedisRunLog.fromUrl(redis.url);
    const N = 300;
    for (let i = 1; i <= N; i++) expect((await log.appendOnce(runId, `m${i}`, [entry(runId, i)])).fresh).toBe(true);
    // killed the moment the last append was answered: no clean shutdown, no chance to flush anything
    execFileSync('kill', ['-9', String(redis.pid)]);
    await log.close().catch(() => {});
    redis = await startPrivateRedis({ dir, ...opts });
    const after = RedisRunLog.fromUrl(redis.url);
    try {
      expect(await after.length(runId)).toBe(N);
      const last = await after.read(runId, N, N);
      expect(last[0]).toMatchObject({ seq: N, eventId: `e.${N}` });
      // every marker came back with its entry: a redelivered input is still recognised
      for (const i of [1, N / 2, N]) expect((await after.appendOnce(runId, `m${i}`, [entry(runId, i)])).fresh).toBe(false);
    } finally {
      await after.close();
    }
  });

  it('VSVA_REDIS_FSYNC=everysec reaches the redis-server the product starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsva-durability-'));
    dirs.push(dir);
    redis = await startPrivateRedis({ dir, ...productRedis(loadConfig({ VSVA_REDIS_FSYNC: 'everysec' })) });
    expect(await fsyncOf(redis)).toBe('everysec');
  });
});
