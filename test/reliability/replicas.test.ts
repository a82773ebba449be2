import { hostname } from 'node:os';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { COMPONENTS, resolvePolicy, type Component, type LogEntry } from '../../libs/contracts/src/index.js';
import { partitionLeaseKey, readPartitionOwners, readReplicas } from '../../libs/cluster/src/index.js';
import { checkDelivery } from '../../libs/chaos/src/index.js';
import type { RunReport } from '../../libs/runtime/src/index.js';
import { RedisRunLog, runKeys } from '../../libs/event-log/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { BullMqClient, partitionOf, queueName } from '../../libs/transport/src/index.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { expectEachInputOnce, projection } from '../recovery/support.js';
import { until } from '../support/until.js';

/**
 * Issue 14, point 1: two processes of every service share its data-queue partitions. Each partition is
 * consumed by one of them at a time; killing the owner of a run's partition mid-run hands it to the
 * other, and the run records what an undisturbed run records, each input once.
 */
const SCENARIO = 'test/fixtures/scenarios/pasid-bind-loop.yaml';
const PARTITIONS = 4;
const LEASE_MS = 1500;

let cluster: TestCluster;
let client: BullMqClient;
let log: RedisRunLog;
let redis: Redis;
let reference: { report: RunReport; entries: LogEntry[] };

function startRun(runId: string): Promise<RunReport> {
  const req = { runId, scenario: loadScenario(SCENARIO), file: SCENARIO, policy: resolvePolicy('v3'), seed: 1, reproduce: 'test' };
  return firstValueFrom(client.send<RunReport>('run.start', req));
}

const outcomesOf = (r: RunReport) => r.outcomes.map(({ seq: _seq, ...o }) => o);


/** Every partition of every service owned by a live replica, and each replica owning its even share. */
async function settled(): Promise<Record<Component, number[]> | undefined> {
  const live = await readReplicas(redis, cluster.cfg.prefix, COMPONENTS);
  const out = {} as Record<Component, number[]>;
  for (const c of COMPONENTS) {
    const owners = await readPartitionOwners(redis, cluster.cfg.prefix, c, PARTITIONS);
    if (live[c].length !== 2 || owners.some((o) => !o)) return undefined;
    const pids = owners.map((o) => o!.pid);
    if (live[c].some((r) => pids.filter((p) => p === r.pid).length !== PARTITIONS / 2)) return undefined;
    out[c] = pids;
  }
  return out;
}

/** A run id whose partition is `p`. */
const runIdIn = (p: number, tag: string) => {
  for (let i = 0; ; i++) if (partitionOf(`${tag}-${i}`, PARTITIONS) === p) return `${tag}-${i}`;
};

beforeAll(async () => {
  const env = { VSVA_PARTITIONS: String(PARTITIONS), VSVA_LEASE_MS: String(LEASE_MS), VSVA_LOCK_MS: '1500', VSVA_STALLED_MS: '500' };
  cluster = await startTestCluster(inject('redisUrl'), 'replicas', { env, replicas: 2 });
  client = new BullMqClient({ url: cluster.cfg.redisUrl, prefix: cluster.cfg.prefix, queue: queueName('orchestrator', 'ctl'), service: 'orchestrator', timeoutMs: 60_000 });
  log = RedisRunLog.fromUrl(cluster.cfg.redisUrl, { prefix: cluster.cfg.prefix });
  redis = new Redis(cluster.cfg.redisUrl);
  await until('two replicas of each service, with two partitions each', settled);
  const report = await startRun('replicas-reference');
  reference = { report, entries: await log.read('replicas-reference') };
  expect(report.verdict).toBe('pass');
});

afterAll(async () => {
  await client?.close();
  await log?.close();
  redis?.disconnect();
  await cluster?.stop();
});

describe('two replicas of each service', () => {
  it('share every partition out, one owner each, and runs on every partition pass', async () => {
    const owners = (await settled())!;
    for (const c of COMPONENTS) expect(new Set(owners[c]).size, c).toBe(2);
    const ids = Array.from({ length: PARTITIONS }, (_, p) => runIdIn(p, 'replicas-spread'));
    const reports = await Promise.all(ids.map(startRun));
    for (const [i, r] of reports.entries()) {
      expect(r.verdict, ids[i]).toBe('pass');
      const entries = await log.read(ids[i]!);
      expect(checkDelivery(entries).problems, ids[i]).toEqual([]);
      for (const c of COMPONENTS) expect(projection(entries, c), `${ids[i]} ${c}`).toEqual(projection(reference.entries, c));
    }
  });

  it('killing the owner of a run\'s partition mid-run hands it to the other replica: nothing lost, nothing doubled', async () => {
    const runId = runIdIn(1, 'replicas-kill');
    const p = partitionOf(runId, PARTITIONS);
    const owner = (await readPartitionOwners(redis, cluster.cfg.prefix, 'host-vtd', PARTITIONS))[p]!;
    const victim = cluster.services.find((s) => s.pid === owner.pid)!;
    expect(victim.component).toBe('host-vtd');
    const running = startRun(runId);
    // SIGKILL once the owner has consumed some of the run's inputs: it dies holding the partition
    const hostInputs = async () => (await log.read(runId)).filter((e) => e.kind === 'input' && e.component === 'host-vtd').length;
    await until('host-vtd consuming the run', async () => (await hostInputs()) >= 20);
    victim.child.kill('SIGKILL');
    const atKill = await hostInputs();
    const report = await running;
    const entries = await log.read(runId);
    expect(report.verdict).toBe('pass');
    // it died mid-run: the survivor consumed the rest
    expect(await hostInputs()).toBeGreaterThan(atKill);
    expect(outcomesOf(report)).toEqual(outcomesOf(reference.report));
    for (const c of COMPONENTS) expect(projection(entries, c), c).toEqual(projection(reference.entries, c));
    expect(checkDelivery(entries).problems).toEqual([]);
    expectEachInputOnce(entries, await redis.hgetall(runKeys(runId, cluster.cfg.prefix).marks));
    // the partition is the survivor's now
    const now = (await readPartitionOwners(redis, cluster.cfg.prefix, 'host-vtd', PARTITIONS))[p];
    const survivor = (await readReplicas(redis, cluster.cfg.prefix, ['host-vtd']))['host-vtd'];
    expect(survivor.map((r) => r.pid)).toEqual([now?.pid]);
  });

  it('a partition whose lease another process holds is consumed by no replica until it is released', async () => {
    const p = 2;
    const key = partitionLeaseKey(cluster.cfg.prefix, 'vfio-type1', p);
    const owner = (await readPartitionOwners(redis, cluster.cfg.prefix, 'vfio-type1', PARTITIONS))[p]!;
    const shareOf = async (pid: number) => (await readReplicas(redis, cluster.cfg.prefix, ['vfio-type1']))['vfio-type1'].find((r) => r.pid === pid)?.stats?.partitions;
    // the test takes the lease over, as a process that resumed after a pause would find it taken
    const now = Date.now();
    await redis.set(key, JSON.stringify({ instance: 'the-test', pid: process.pid, host: hostname(), startedAt: now, beatAt: now, role: 'test' }), 'PX', 120_000);
    try {
      // the owner sees it lost at its next renewal and stops consuming it
      await until('the owner giving partition 2 up', async () => (await shareOf(owner.pid)) === PARTITIONS / 2 - 1);
      const runId = runIdIn(p, 'replicas-fenced');
      const running = startRun(runId);
      const queue = queueName('vfio-type1', 'data', p);
      const waiting = async () => (await redis.zcard(`${cluster.cfg.prefix}:${queue}:delayed`)) + (await redis.llen(`${cluster.cfg.prefix}:${queue}:wait`));
      // the run reaches VFIO: its inputs wait in the partition
      await until('vfio-type1 inputs waiting in partition 2', async () => (await waiting()) > 0);
      // a lease period: three balance rounds of each replica, each of which would take the partition if it could
      await new Promise((r) => setTimeout(r, LEASE_MS));
      expect((await log.read(runId)).filter((e) => e.kind === 'input' && e.component === 'vfio-type1')).toEqual([]);
      expect(await waiting()).toBeGreaterThan(0);
      await redis.del(key);
      const report = await running;
      expect(report.verdict).toBe('pass');
      expect(checkDelivery(await log.read(runId)).problems).toEqual([]);
      // its assigned replica took it back
      expect((await readPartitionOwners(redis, cluster.cfg.prefix, 'vfio-type1', PARTITIONS))[p]?.pid).toBe(owner.pid);
    } finally {
      await redis.del(key);
    }
  });
});
