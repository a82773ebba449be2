import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort, probeRedis, RedisUnavailableError, startPrivateRedis } from '../../libs/redis/src/index.js';

/** A redis-server of this test's own, with extra arguments (a password, a memory limit). */
/** A redis-server of this test's own (append-only off, noeviction), with a password when given. */
const ownRedis = (password?: string) => startPrivateRedis({ appendonly: false, ...(password ? { password } : {}) });

async function failure(url: string, ms = 5000): Promise<{ message: string; tookMs: number }> {
  const t0 = Date.now();
  const e = await probeRedis(url, ms).then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(RedisUnavailableError);
  return { message: (e as Error).message, tookMs: Date.now() - t0 };
}

describe('probeRedis: every way Redis can be unusable is one line naming the cause, within the deadline', () => {
  let locked: Awaited<ReturnType<typeof ownRedis>>;
  beforeAll(async () => {
    locked = await ownRedis('s3cret-pw');
  });
  afterAll(() => {
    if (locked) process.kill(locked.pid, 'SIGKILL');
  });

  it('answers a healthy server with its version and memory', async () => {
    const p = await probeRedis(inject('redisUrl'));
    expect(p.version).toMatch(/^\d+\./);
  });

  it('refused: nobody listens on the port', async () => {
    const port = await freePort();
    const f = await failure(`redis://127.0.0.1:${port}`);
    expect(f.message).toMatch(/connection refused/);
    expect(f.tookMs).toBeLessThan(10_000);
  });

  it('wrong password, and no password where one is required; the password is not printed', async () => {
    const wrong = await failure(`redis://:not-it@127.0.0.1:${locked.port}`);
    expect(wrong.message).toMatch(/authentication failed/);
    expect(wrong.message).not.toContain('not-it');
    const none = await failure(`redis://127.0.0.1:${locked.port}`);
    expect(none.message).toMatch(/authentication failed/);
  });

  it('TLS to a plain port', async () => {
    const f = await failure(`rediss://127.0.0.1:${locked.port}`);
    expect(f.message).toMatch(/TLS|closed the connection/);
    expect(f.tookMs).toBeLessThan(10_000);
  });

  it('out of memory: maxmemory reached with noeviction', async () => {
    const r = await ownRedis();
    try {
      const c = new Redis(r.url);
      await c.set('filler', 'x'.repeat(200_000));
      await c.config('SET', 'maxmemory', '1000000');
      const used = Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
      await c.config('SET', 'maxmemory', String(Math.floor(used / 2)));
      c.disconnect();
      const f = await failure(r.url);
      expect(f.message).toMatch(/out of memory/);
    } finally {
      process.kill(r.pid, 'SIGKILL');
    }
  });

  it('paused server: no answer within the deadline', async () => {
    const r = await ownRedis();
    try {
      process.kill(r.pid, 'SIGSTOP');
      const f = await failure(r.url, 1500);
      expect(f.message).toMatch(/no answer within the deadline/);
      expect(f.tookMs).toBeLessThan(5000);
    } finally {
      process.kill(r.pid, 'SIGKILL');
    }
  });
});
