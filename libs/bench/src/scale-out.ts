import { DEFAULT_RECOVERY, type SignalHook } from '../../cluster/src/index.js';
import { loadConfig } from '../../config/src/index.js';
import { resolvePolicy, type Envelope } from '../../contracts/src/index.js';
import { runEmbedded } from '../../engine/src/index.js';
import { RedisRunLog } from '../../event-log/src/index.js';
import { connectRedis, startPrivateRedisCluster } from '../../redis/src/index.js';
import { BullMqClient, queueName } from '../../transport/src/index.js';
import { redisCpuSeconds, type BenchRedis } from './bench-redis.js';
import { onewayTrial, startOnewayPeer, type OnewayTrial } from './bullmq-oneway.js';
import { startClusterUnderTest, type ClusterUnderTest } from './cluster-under-test.js';
import { BENCH_POLICY, type BenchContext, type ClusterContext } from './context.js';
import { figure, fmt } from './figure.js';
import { clusterHopTrial, type ClusterHopTrial } from './hop-throughput.js';
import { median, round } from './stats.js';
import type { Figure } from './types.js';
import { generatedScenario } from './workload.js';

type Target = 'redis' | 'redis-cluster';

/** One (target, replicas) point: the cluster's trials and its peer's, and how busy Redis was. */
interface Point {
  target: Target;
  replicas: number;
  cluster: ClusterHopTrial[];
  peer: OnewayTrial[];
  /** Redis CPU seconds per wall second over the cluster's trials (summed over a Cluster's masters): near 1 per node, Redis is the bottleneck */
  redisBusy: number;
}

/**
 * The Redis a target names: the bench's own, or a private three-master Redis Cluster started for this
 * figure (appendfsync always, as the product's), under a prefix of the bench's.
 */
async function openTarget(ctx: BenchContext, target: Target): Promise<BenchRedis> {
  if (target === 'redis') return ctx.redis;
  const rc = await startPrivateRedisCluster({ masters: 3, appendfsync: 'always' });
  const admin = connectRedis(rc.url, { maxRetriesPerRequest: null });
  // a Cluster knows its masters once connected (INFO and CPU are read per master)
  await admin.ping();
  return {
    url: rc.url, source: ctx.redis.source, prefix: ctx.redis.prefix, admin,
    // the whole Cluster goes at close
    deleteKeys: async () => 0,
    async close() {
      admin.disconnect();
      await rc.stop();
    },
  };
}

/** A cluster of `replicas` processes per service on the target, its peer with the same layout, `trials` of each interleaved. */
async function measurePoint(ctx: BenchContext, guard: SignalHook | undefined, redis: BenchRedis, target: Target, replicas: number, envelopes: Envelope[]): Promise<Point> {
  const so = ctx.plan.scaleOut;
  const pr = ctx.progress;
  const partitions = loadConfig().partitions;
  const prefix = `${ctx.redis.prefix}-so-${target}-${replicas}`;
  const log = RedisRunLog.fromUrl(redis.url, { prefix });
  let cluster: ClusterUnderTest | undefined;
  let orchestrator: BullMqClient | undefined;
  const peer = await startOnewayPeer(ctx, { partitions, replicas, redis: { url: redis.url, prefix } });
  try {
    cluster = await startClusterUnderTest(redis.url, prefix, guard, { replicas });
    orchestrator = new BullMqClient({ url: redis.url, prefix, queue: queueName('orchestrator', 'ctl'), service: 'orchestrator', timeoutMs: 600_000 });
    const cctx: ClusterContext = { ...ctx, redis: { ...redis, prefix }, log, cluster, orchestrator };
    const scenario = generatedScenario(ctx.plan.throughput.shape);
    // untimed: JIT, connections, the first runs of every replica
    await clusterHopTrial(cctx, { scenario: generatedScenario({ vms: 1, rounds: 1, backgroundDma: 1 }), lanes: so.lanes, tag: 'warm' });
    await onewayTrial(cctx, peer, { envelopes, jobs: 500 });
    const c: ClusterHopTrial[] = [];
    const p: OnewayTrial[] = [];
    let busy = 0;
    let wall = 0;
    for (let t = 0; t < so.trials; t++) {
      const cpu0 = await redisCpuSeconds(redis.admin);
      const w0 = performance.now();
      const ct = await clusterHopTrial(cctx, { scenario, lanes: so.lanes, tag: `so${t}` });
      wall += (performance.now() - w0) / 1000;
      busy += (await redisCpuSeconds(redis.admin)) - cpu0;
      c.push(ct);
      pr.tick(`${target}, ${replicas} replica(s): cluster ${fmt(ct.rate)} hops/s`);
      const pt = await onewayTrial(cctx, peer, { envelopes, jobs: so.peerJobs });
      p.push(pt);
      pr.tick(`${target}, ${replicas} replica(s): raw BullMQ ${fmt(pt.rate)} jobs/s`);
    }
    return { target, replicas, cluster: c, peer: p, redisBusy: busy / Math.max(wall, 1e-9) };
  } finally {
    await orchestrator?.close().catch(() => {});
    await cluster?.stop().catch(() => {});
    await peer.close().catch(() => {});
    await log.close().catch(() => {});
    await redis.deleteKeys(prefix).catch(() => 0);
  }
}

/**
 * Issue 14, point 6: hop throughput with 1, 2 and 4 replicas per service, against one Redis and against
 * a local three-master Redis Cluster; each point's peer is raw BullMQ one-way with the same layout (a
 * queue per partition, as many processes per service as replicas, sharing the queues as the replicas
 * share partitions), measured in the same run, trials interleaved.
 */
export async function measureScaleOut(ctx: BenchContext, guard?: SignalHook): Promise<Figure[]> {
  const so = ctx.plan.scaleOut;
  const pr = ctx.progress;
  const targets: Target[] = so.redisCluster ? ['redis', 'redis-cluster'] : ['redis'];
  pr.phase(`scale-out: hop throughput with ${so.replicas.join(', ')} replica(s) per service, on ${targets.join(' and ')}; raw BullMQ with the same layout beside each`, targets.length * so.replicas.length * so.trials * 2);
  const emb = await runEmbedded({ runId: 'bench-envelopes', scenario: generatedScenario(ctx.plan.throughput.shape), policy: resolvePolicy(BENCH_POLICY), seed: 1 });
  const envelopes = emb.entries.filter((e) => e.kind === 'input').map((e) => e.payload as Envelope);
  const points: Point[] = [];
  for (const target of targets) {
    const redis = await openTarget(ctx, target);
    try {
      for (const r of so.replicas) points.push(await measurePoint(ctx, guard, redis, target, r, envelopes));
    } finally {
      if (redis !== ctx.redis) await redis.close();
    }
  }
  const partitions = loadConfig().partitions;
  return points.map((pt) => {
    const one = points.find((x) => x.target === pt.target && x.replicas === Math.min(...so.replicas))!;
    const rate = (x: Point) => median(x.cluster.map((t) => t.rate));
    return figure({
      id: `scale-out-${pt.target}-${pt.replicas}r`,
      name: `hop throughput with ${pt.replicas} replica(s) per service on ${pt.target === 'redis' ? 'one Redis' : 'a three-master Redis Cluster'}`,
      unit: 'hops/s', trials: pt.cluster.map((t) => t.rate),
      peer: { name: `raw BullMQ one-way, ${partitions} queues per service in ${pt.replicas} process(es) per service, same payloads, same ${pt.target === 'redis' ? 'Redis' : 'Redis Cluster'}`, unit: 'jobs/s', trials: pt.peer.map((t) => t.rate) },
      goal: null,
      config: {
        cluster: `${pt.replicas} process(es) of each of the five services, ${partitions} partitions per data queue shared out among them; ${ctx.plan.scaleOut.lanes} runs asked at once (each on the partition of its id), the hop-throughput workload; ${ctx.plan.scaleOut.trials} trial(s), interleaved with the peer's`,
        redis: pt.target === 'redis' ? "the bench's Redis" : 'three redis-servers on loopback with --cluster-enabled yes, joined by redis-cli --cluster create (no replicas), appendonly yes, appendfsync always',
        lockMs: DEFAULT_RECOVERY.lockMs,
      },
      details: {
        versusOneReplica: round(rate(pt) / rate(one), 2),
        redisCpuPerWallSecond: round(pt.redisBusy, 2),
        note: 'versusOneReplica: this point\'s cluster rate over the same target\'s with the fewest replicas. redisCpuPerWallSecond: Redis CPU seconds (summed over a Cluster\'s masters) per second of the cluster\'s trials: near 1.0 per redis-server, Redis is what limits the rate; on a machine with fewer cores than processes, the services and Redis share them, and more replicas only add contention',
        cpuUsPerHop: round(median(pt.cluster.map((t) => t.cpuUsPerHop ?? NaN))),
        clusterTrials: pt.cluster.map((t) => ({ rate: round(t.rate), hops: t.hops, runs: t.runs, notPass: t.notPass })),
        peerTrials: pt.peer.map((t) => ({ rate: round(t.rate), jobs: t.jobs, cpuUsPerJob: round(t.cpuUsPerJob) })),
      },
    });
  });
}
