import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../libs/redis/src/index.js';

// A redis-server SIGKILLed mid-write leaves its append-only file torn. Redis 7.0 cuts such a file after
// its last whole command, which can leave a MULTI without EXEC: on the next load the transaction
// appended after the restart joins the torn one, and half of a script nobody was told succeeded comes
// back (found by the chaos soak: a log append half applied). startPrivateRedis refuses the torn file
// and cuts it before the MULTI (redis-check-aof --fix): what was acknowledged stays, nothing else returns.

let redis: PrivateRedis | undefined;
afterEach(async () => {
  await redis?.stop();
  redis = undefined;
});

/** One script writing two keys: replicated to the append-only file as MULTI, SET, SET, EXEC. */
async function both(r: PrivateRedis, a: string, b: string, v: string): Promise<void> {
  const c = new Redis(r.url);
  await c.eval("redis.call('set', KEYS[1], ARGV[1]); redis.call('set', KEYS[2], ARGV[1])", 2, a, b, v);
  c.disconnect();
}
const get = async (r: PrivateRedis, k: string) => {
  const c = new Redis(r.url);
  const v = await c.get(k);
  c.disconnect();
  return v;
};
const kill = (r: PrivateRedis) => execFileSync('kill', ['-9', String(r.pid)]);

describe('a torn append-only file', () => {
  it('is cut before the torn transaction: the acknowledged scripts stay whole, the torn one never comes back, also after a later restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsva-torn-aof-'));
    redis = await startPrivateRedis({ dir });
    const { port } = redis;
    await both(redis, 'a1', 'b1', 'v1');
    await both(redis, 'a2', 'b2', 'v2');
    kill(redis);
    await new Promise((res) => setTimeout(res, 200));
    // the kill tore the last script's write: its SET b2 and EXEC never reached the disk
    const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    truncateSync(incr, statSync(incr).size - 30);

    redis = await startPrivateRedis({ dir, port });
    expect(redis.repaired).toMatch(/shrink/);
    expect([await get(redis, 'a1'), await get(redis, 'b1')]).toEqual(['v1', 'v1']);
    expect([await get(redis, 'a2'), await get(redis, 'b2')]).toEqual([null, null]);
    // a script acknowledged after the restart, then another restart: still no half of the torn one
    await both(redis, 'a3', 'b3', 'v3');
    kill(redis);
    await new Promise((res) => setTimeout(res, 200));
    redis = await startPrivateRedis({ dir, port });
    expect(redis.repaired).toBeUndefined();
    expect([await get(redis, 'a2'), await get(redis, 'a3'), await get(redis, 'b3')]).toEqual([null, 'v3', 'v3']);
  });
});
