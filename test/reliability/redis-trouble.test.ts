import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { freePort, startPrivateRedis } from '../../libs/redis/src/index.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { runCli, startCli, untilGone } from '../support/cli-process.js';

/**
 * Issue 8, points 3 and 4: nothing hangs when Redis is unusable (exit 3 within 10 s, one line naming
 * the cause), and infrastructure trouble during a run is `verdict: infrastructure`, never a finding.
 */
const seed = 'scenarios/seed-null-iommu-device.yaml';

/** A redis-server of this test's own (append-only off, noeviction), with a password when given. */
const ownRedis = (password?: string) => startPrivateRedis({ appendonly: false, ...(password ? { password } : {}) });

function expectOneLineCause(r: { code: number | null; stderr: string; ms: number }, cause: RegExp): void {
  expect(r.code, r.stderr).toBe(3);
  expect(r.ms).toBeLessThan(10_000);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('vsva-sim:'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(cause);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('Redis unusable: exit 3 within 10 s with one line naming the cause', () => {
  let locked: Awaited<ReturnType<typeof ownRedis>>;
  beforeAll(async () => {
    locked = await ownRedis('pw-42');
  });
  afterAll(() => void (locked && process.kill(locked.pid, 'SIGKILL')));

  it('unreachable: status and run', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    expectOneLineCause(await runCli(['status'], { REDIS_URL: url }, 30_000), /connection refused/);
    expectOneLineCause(await runCli(['run', seed, '--engine', 'cluster', '-q'], { REDIS_URL: url }, 30_000), /connection refused/);
  });

  it('wrong password (and the password is never printed)', async () => {
    const r = await runCli(['run', seed, '--engine', 'cluster', '-q'], { REDIS_URL: `redis://:wrong-pw-7@127.0.0.1:${locked.port}` }, 30_000);
    expectOneLineCause(r, /authentication failed/);
    expect(r.stderr).not.toContain('wrong-pw-7');
  });

  it('TLS to a plain port', async () => {
    expectOneLineCause(await runCli(['status'], { REDIS_URL: `rediss://127.0.0.1:${locked.port}` }, 30_000), /TLS|closed the connection/);
  });
});

describe('trouble during a run is verdict infrastructure, exit 3', () => {
  let redis: Awaited<ReturnType<typeof ownRedis>>;
  let cluster: TestCluster;
  beforeAll(async () => {
    redis = await ownRedis();
    cluster = await startTestCluster(redis.url, 'trouble');
  });
  afterAll(async () => {
    if (redis) process.kill(redis.pid, 'SIGCONT');
    await cluster?.stop();
    if (redis) process.kill(redis.pid, 'SIGKILL');
  });
  const env = () => ({ REDIS_URL: redis.url, VSVA_PREFIX: cluster.cfg.prefix, VSVA_STATE_DIR: mkdtempSync(join(tmpdir(), 'vsva-trouble-state-')) });

  it('Redis gone for longer than a step timeout: infrastructure, not a liveness violation', async () => {
    // a run long enough (four VMs, background DMA) to be in flight when Redis stops
    const cli = startCli(['run', 'scenarios/four-vms-two-parents-background.yaml', '--engine', 'cluster', '--json', '-q', '--step-timeout', '2000'], env());
    await cli.waitFor(/using the running services/);
    process.kill(redis.pid, 'SIGSTOP');
    const r = await cli.done;
    process.kill(redis.pid, 'SIGCONT');
    expect(r.code, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: false, exitCode: 3, verdict: 'infrastructure', error: { kind: 'infrastructure' } });
    expect(out.error.message).toMatch(/Redis at .* unavailable since .*longer than the step timeout of 2000 ms/);
    expect(r.stdout).not.toMatch(/liveness/);
  });

  it('an outage shorter than a step timeout: the run passes and its report says what it survived', async () => {
    const cli = startCli(['run', 'scenarios/four-vms-two-parents-background.yaml', '--engine', 'cluster', '--json', '-q', '--step-timeout', '15000'], env());
    await cli.waitFor(/using the running services/);
    process.kill(redis.pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 2500));
    process.kill(redis.pid, 'SIGCONT');
    const r = await cli.done;
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.verdict).toBe('pass');
    expect(report.infrastructure.outages.join('\n')).toMatch(/Redis at .* unavailable for \d+\.\d s/);
    expect(r.stderr).toMatch(/the run survived 1 outage/);
  });

  it('--timeout bounds the whole command, closing included', async () => {
    const cli = startCli(['run', 'scenarios/four-vms-two-parents-background.yaml', '--engine', 'cluster', '--json', '-q', '--timeout', '3000', '--step-timeout', '60000'], env());
    await cli.waitFor(/using the running services/);
    process.kill(redis.pid, 'SIGSTOP');
    const r = await cli.done;
    process.kill(redis.pid, 'SIGCONT');
    expect(r.code, r.stderr).toBe(3);
    expect(r.ms).toBeLessThan(3000 + 10_000);
    expect(JSON.parse(r.stdout).error.message).toMatch(/--timeout: gave up after 3000 ms while running run-/);
  });

  it('status writes nothing to the Redis it looks at: it works as a user allowed only to read', async () => {
    const c = new Redis(redis.url);
    try {
      // a user that may read, PING, INFO and connect, and may write nothing at all
      await c.call('ACL', 'SETUSER', 'reader', 'on', '>reader-pw', '~*', '&*', '-@all', '+@read', '+ping', '+info', '+client', '+hello', '+select');
      const u = new URL(redis.url);
      const r = await runCli(['status', '--json'], { ...env(), REDIS_URL: `redis://reader:reader-pw@${u.host}` }, 30_000);
      expect(r.code, r.stderr).toBe(0);
      expect(Object.values(JSON.parse(r.stdout).services).every(Boolean)).toBe(true);
    } finally {
      await c.call('ACL', 'DELUSER', 'reader');
      c.disconnect();
    }
  });

  it('Redis out of memory: says so at once instead of waiting for the timeout', async () => {
    const c = new Redis(redis.url);
    try {
      const used = Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
      await c.config('SET', 'maxmemory', String(Math.floor(used / 2)));
      const r = await runCli(['run', seed, '--engine', 'cluster', '--json', '-q'], env(), 30_000);
      expect(r.code, r.stderr).toBe(3);
      expect(r.ms).toBeLessThan(10_000);
      expect(JSON.parse(r.stdout).error.message).toMatch(/out of memory/);
    } finally {
      await c.config('SET', 'maxmemory', '0');
      c.disconnect();
    }
  });
});

describe('Ctrl-C', () => {
  it('stops every process the command started (services and its redis-server) and removes its data folder', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'vsva-ctrlc-'));
    const cli = startCli(['run', 'scenarios/four-vms-two-parents-background.yaml', '--engine', 'cluster', '-q'], { VSVA_STATE_DIR: stateDir });
    const redisLine = await cli.waitFor(/private redis-server \(pid (\d+)\) at \S+, append-only file in (\S+)/);
    const up = await cli.waitFor(/services up \(([^)]*)\)/);
    const pids = [Number(redisLine[1]), ...up[1]!.split(' ').map((s) => Number(s.split(':')[1]))];
    expect(pids).toHaveLength(6);
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(await untilGone(pids, 10_000), 'processes left running').toEqual([]);
    expect(existsSync(redisLine[2]!)).toBe(false);
  });
});
