import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { probeRedis, RedisUnavailableError } from '../../libs/redis/src/connect.js';
import { freePort, waitForRedis } from '../../libs/redis/src/private-server.js';

/** A redis-server of this test's own, with extra arguments (a password, a memory limit). */
async function ownRedis(args: string[]): Promise<{ url: string; port: number; child: ChildProcess }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vsva-probe-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' });
  return { url: `redis://127.0.0.1:${port}`, port, child };
}

async function failure(url: string, ms = 5000): Promise<{ message: string; tookMs: number }> {
  const t0 = Date.now();
  const e = await probeRedis(url, ms).then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(RedisUnavailableError);
  return { message: (e as Error).message, tookMs: Date.now() - t0 };
}

describe('probeRedis: every way Redis can be unusable is one line naming the cause, within the deadline', () => {
  let locked: Awaited<ReturnType<typeof ownRedis>>;
  beforeAll(async () => {
    locked = await ownRedis(['--requirepass', 's3cret-pw']);
    await waitForRedis(`redis://:s3cret-pw@127.0.0.1:${locked.port}`, 5000);
  });
  afterAll(() => {
    locked?.child.kill('SIGKILL');
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
    const r = await ownRedis(['--maxmemory-policy', 'noeviction']);
    try {
      await waitForRedis(r.url, 5000);
      const c = new Redis(r.url);
      await c.set('filler', 'x'.repeat(200_000));
      await c.config('SET', 'maxmemory', '1000000');
      const used = Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
      await c.config('SET', 'maxmemory', String(Math.floor(used / 2)));
      c.disconnect();
      const f = await failure(r.url);
      expect(f.message).toMatch(/out of memory/);
    } finally {
      r.child.kill('SIGKILL');
    }
  });

  it('paused server: no answer within the deadline', async () => {
    const r = await ownRedis([]);
    try {
      await waitForRedis(r.url, 5000);
      r.child.kill('SIGSTOP');
      const f = await failure(r.url, 1500);
      expect(f.message).toMatch(/no answer within the deadline/);
      expect(f.tookMs).toBeLessThan(5000);
    } finally {
      r.child.kill('SIGKILL');
    }
  });
});
