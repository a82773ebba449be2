import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { COMPONENTS } from '../../libs/contracts/src/index.js';
import { hostname } from 'node:os';
import { EXIT_LEASE_HELD, MAX_REPLICAS, readPartitionOwners, readReplicas, replicaLeaseKey, spawnServices } from '../../libs/cluster/src/index.js';
import { killService, restartService, startTestCluster, type TestCluster } from '../support/cluster.js';
import { runCli, untilGone } from '../support/cli-process.js';
import { until } from '../support/until.js';

/**
 * Issue 8, point 1: one set of consumers per namespace. A dead service, or many runs at once, used to
 * make the CLI start a second set of services on the same queues (duplicate ids, wrong verdicts). Since
 * issue 14 a second process of a service is a replica that shares its partitions, never a second
 * consumer of one.
 */
let cluster: TestCluster;
let redis: Redis;
let stateDir: string;
const seed = 'scenarios/seed-null-iommu-device.yaml';

const env = () => ({ REDIS_URL: cluster.cfg.redisUrl, VSVA_PREFIX: cluster.cfg.prefix, VSVA_STATE_DIR: stateDir });
const instances = async () => Object.fromEntries(Object.entries(await readReplicas(redis, cluster.cfg.prefix, COMPONENTS)).map(([c, rs]) => [c, rs.map((r) => r.instance)]));
const partitionPids = async () => (await readPartitionOwners(redis, cluster.cfg.prefix, 'host-vtd', 4)).map((o) => o?.pid);


beforeAll(async () => {
  cluster = await startTestCluster(inject('redisUrl'), 'onecons', { env: { VSVA_PARTITIONS: '4' } });
  redis = new Redis(cluster.cfg.redisUrl);
  stateDir = mkdtempSync(join(tmpdir(), 'vsva-onecons-'));
});
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

describe('one set of consumers per namespace', () => {
  it('a second process of a service is a replica: it takes the next slot and half the partitions, and gives them back when it stops', async () => {
    const first = cluster.services.find((s) => s.component === 'host-vtd')!;
    await until('the one replica owning every partition', async () => (await partitionPids()).every((p) => p === first.pid));
    const [second] = spawnServices(cluster.cfg, ['host-vtd'], { logDir: mkdtempSync(join(tmpdir(), 'vsva-second-')), env: { VSVA_PARTITIONS: '4' } });
    try {
      await until('partitions split between the two', async () => (await partitionPids()).filter((p) => p === second!.pid).length === 2);
      const live = (await readReplicas(redis, cluster.cfg.prefix, ['host-vtd']))['host-vtd'];
      expect(live.map((r) => [r.slot, r.pid])).toEqual([[0, first.pid], [1, second!.pid]]);
      // partitions go round the live slots in order
      expect(await partitionPids()).toEqual([first.pid, second!.pid, first.pid, second!.pid]);
    } finally {
      second!.child.kill('SIGTERM');
      await new Promise((r) => second!.child.once('exit', r));
    }
    // a clean stop hands its partitions over at once
    await until('the first taking every partition back', async () => (await partitionPids()).every((p) => p === first.pid));
  });

  it('with every replica slot held by a live process, one more refuses to start, naming them', async () => {
    const now = Date.now();
    const fake = JSON.stringify({ instance: 'the-test', pid: process.pid, host: hostname(), startedAt: now, beatAt: now });
    const keys = Array.from({ length: MAX_REPLICAS - 1 }, (_, i) => replicaLeaseKey(cluster.cfg.prefix, 'host-vtd', i + 1));
    for (const k of keys) await redis.set(k, fake, 'PX', 60_000);
    try {
      const [extra] = spawnServices(cluster.cfg, ['host-vtd'], { logDir: mkdtempSync(join(tmpdir(), 'vsva-extra-')) });
      const code = await new Promise<number | null>((r) => extra!.child.once('exit', (c) => r(c)));
      expect(code).toBe(EXIT_LEASE_HELD);
      expect(readFileSync(extra!.logFile, 'utf8')).toContain(`all ${MAX_REPLICAS} replica slots of host-vtd`);
    } finally {
      await redis.del(...keys);
    }
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
    for (const c of COMPONENTS.filter((x) => x !== 'host-vtd')) expect(after[c], c).toEqual(before[c]);
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
    const fresh = (await readReplicas(redis, cluster.cfg.prefix, ['vfio-type1']))['vfio-type1'][0]!;
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
