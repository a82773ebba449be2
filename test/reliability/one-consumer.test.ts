import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { COMPONENTS } from '../../libs/contracts/src/index.js';
import { EXIT_LEASE_HELD, readLeases, spawnServices } from '../../libs/cluster/src/index.js';
import { killService, restartService, startTestCluster, type TestCluster } from '../support/cluster.js';
import { runCli, untilGone } from '../support/cli-process.js';

/**
 * Issue 8, point 1: one set of consumers per namespace. A dead service, or many runs at once, used to
 * make the CLI start a second set of services on the same queues (duplicate ids, wrong verdicts).
 */
let cluster: TestCluster;
let redis: Redis;
let stateDir: string;
const seed = 'scenarios/seed-null-iommu-device.yaml';

const env = () => ({ REDIS_URL: cluster.cfg.redisUrl, VSVA_PREFIX: cluster.cfg.prefix, VSVA_STATE_DIR: stateDir });
const instances = async () => Object.fromEntries(Object.entries(await readLeases(redis, cluster.cfg.prefix, COMPONENTS)).map(([c, h]) => [c, h?.instance]));

beforeAll(async () => {
  cluster = await startTestCluster(inject('redisUrl'), 'onecons');
  redis = new Redis(cluster.cfg.redisUrl);
  stateDir = mkdtempSync(join(tmpdir(), 'vsva-onecons-'));
});
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

describe('one set of consumers per namespace', () => {
  it('a second process for a queue that a live one consumes refuses to start, naming the holder', async () => {
    const holder = cluster.services.find((s) => s.component === 'host-vtd')!;
    const [second] = spawnServices(cluster.cfg, ['host-vtd'], { logDir: mkdtempSync(join(tmpdir(), 'vsva-second-')) });
    const code = await new Promise<number | null>((r) => second!.child.once('exit', (c) => r(c)));
    expect(code).toBe(EXIT_LEASE_HELD);
    expect(readFileSync(second!.logFile, 'utf8')).toContain(`already held by pid ${holder.pid}`);
    // the holder still holds it
    expect((await readLeases(redis, cluster.cfg.prefix, ['host-vtd'] as const))['host-vtd']?.pid).toBe(holder.pid);
  });

  it('with one service dead, run starts only that one; the verdict is right and the log replays identically', async () => {
    const before = await instances();
    await killService(cluster, 'host-vtd');
    const r = await runCli(['run', seed, '--policy', 'v2', '--engine', 'cluster', '--json', '-q'], env());
    expect(r.stderr).toMatch(/host-vtd missing .* starting only it/);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.verdict).toBe('pass');
    // the other four were never replaced: the same lease instances
    const after = await instances();
    for (const c of COMPONENTS.filter((x) => x !== 'host-vtd')) expect(after[c], c).toBe(before[c]);
    // the run's log is whole: ids unique, and it re-folds identically
    const kept = join(stateDir, 'runs', `${report.runId}.ndjson`);
    const lines = readFileSync(kept, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { eventId: string; component: string; kind: string });
    const ids = lines.filter((e) => e.kind !== 'input').map((e) => `${e.component}|${e.eventId}`);
    expect(new Set(ids).size).toBe(ids.length);
    const replay = await runCli(['replay', kept]);
    expect(replay.code, replay.stderr).toBe(0);
    // and by its id alone, with no Redis configured at all
    const byId = await runCli(['replay', report.runId], { VSVA_STATE_DIR: stateDir });
    expect(byId.code, byId.stderr).toBe(0);
    await restartService(cluster, 'host-vtd');
  });

  it('restart <service> without a supervisor brings back a service that was SIGKILLed (its lease still there)', async () => {
    const dead = await killService(cluster, 'vfio-type1');
    const r = await runCli(['restart', 'vfio-type1'], env(), 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`vfio-type1: restarted \\(pid ${dead.pid} → \\d+\\)`));
    // it runs detached: stop it, and give the test cluster its own again
    const fresh = (await readLeases(redis, cluster.cfg.prefix, ['vfio-type1'] as const))['vfio-type1']!;
    process.kill(fresh.pid, 'SIGTERM');
    expect(await untilGone([fresh.pid], 10_000)).toEqual([]);
    await restartService(cluster, 'vfio-type1');
  });

  it('many runs at once on one cluster: every verdict right, no service started twice', async () => {
    const before = await instances();
    const runs = await Promise.all([0, 1, 2, 3].map((i) => runCli(['run', seed, '--policy', i % 2 ? 'v2' : 'v1', '--engine', 'cluster', '--json', '-q'], env())));
    for (const [i, r] of runs.entries()) {
      expect(r.stderr).toMatch(/using the running services/);
      expect(r.code, r.stderr).toBe(i % 2 ? 0 : 1);
      expect(JSON.parse(r.stdout).verdict).toBe(i % 2 ? 'pass' : 'fail');
    }
    expect(await instances()).toEqual(before);
  });
});
