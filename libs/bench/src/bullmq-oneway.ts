import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../redis/src/index.js';
import { DEFAULT_RECOVERY, workerOptionsOf } from '../../cluster/src/index.js';
import { COMPONENTS, type Component, type Envelope } from '../../contracts/src/index.js';
import { CHANNEL_CONCURRENCY } from '../../transport/src/index.js';
import { commandStats, commandsPer, redisCpuSeconds } from './bench-redis.js';
import { jobDataOf, type BenchContext } from './context.js';
import type { ChainJobData } from './peer-child.js';
import { forkPeer, type PeerProcess } from './peer-process.js';
import { centralRate } from './stats.js';

/** The job options the transport's client uses for deliveries (BullMqClient.jobOptions). */
export const TRANSPORT_JOB_OPTIONS = { removeOnComplete: 10_000, removeOnFail: 10_000 };
export const PRODUCER_BULK = 500;
/** A peer trial's jobs all processed within this, or the trial fails (a worker gone, say). */
const DRAIN_TIMEOUT_MS = 300_000;

export interface OnewayPeer {
  /** per service, one queue per partition */
  queues: Record<Component, string[]>;
  workers: PeerProcess[];
  connection: Redis;
  producers: Record<Component, Queue[]>;
  /** what it mirrors of the cluster's layout */
  partitions: number;
  replicas: number;
  close(): Promise<void>;
}

/** The peer's Redis: the bench's own, or another (the scale-out figure's Redis Cluster). */
export interface PeerRedis {
  url: string;
  prefix: string;
}

/**
 * Raw BullMQ one-way, shaped like the cluster's data path: per service one queue per partition (named
 * in a hash tag, as the services' are), consumed by `replicas` processes that share the queues as the
 * services' replicas share partitions, one Worker per queue with the services' concurrency
 * (CHANNEL_CONCURRENCY.data) and Worker settings (lock 5 s, stalled check 2 s); the processor only notes
 * the time. No Nest, no validation, no log. `naive`: the processor first appends the job's data to a
 * stream (XADD, awaited), the job plus a separate log entry per hop that a user would write first.
 * `chain`: a job per hop, as the cluster's hops: each processor adds the next job to the next service's
 * queue (chainTrial), what one hop costs in BullMQ alone.
 */
export async function startOnewayPeer(ctx: BenchContext, o: { naive?: boolean; chain?: boolean; partitions: number; replicas?: number; redis?: PeerRedis }): Promise<OnewayPeer> {
  const kind = o.naive ? 'naive' : o.chain ? 'chain' : 'oneway';
  const { url, prefix } = o.redis ?? ctx.redis;
  const replicas = o.replicas ?? 1;
  const queues = Object.fromEntries(COMPONENTS.map((c) => [c, Array.from({ length: o.partitions }, (_, i) => `{peer-${kind}-${c}.p${i}}`)])) as Record<Component, string[]>;
  const workers = await Promise.all(COMPONENTS.flatMap((c) => Array.from({ length: replicas }, (_, k) => forkPeer({
    mode: 'oneway', url, prefix, queues: queues[c].filter((_, i) => i % replicas === k), concurrency: CHANNEL_CONCURRENCY.data, workerOptions: workerOptionsOf(DEFAULT_RECOVERY),
    ...(o.naive ? { xadd: `${prefix}:peer-naive-log:{${c}.${k}}` } : {}),
    // a chain goes round the services, each hop to the next service's queue of the same partition
    ...(o.chain ? { next: queues[nextService(c)].filter((_, i) => i % replicas === k), jobOptions: TRANSPORT_JOB_OPTIONS } : {}),
  }))));
  const connection = connectRedis(url, { maxRetriesPerRequest: null });
  const producers = Object.fromEntries(COMPONENTS.map((c) => [c, queues[c].map((q) => new Queue(q, { connection, prefix }))])) as Record<Component, Queue[]>;
  return {
    queues, workers, connection, producers, partitions: o.partitions, replicas,
    async close() {
      await Promise.all(workers.map((w) => w.stop()));
      for (const q of Object.values(producers).flat()) {
        await q.obliterate({ force: true }).catch(() => {});
        await q.close();
      }
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}

/** The service after `c` in COMPONENTS, round: where a chain peer's job goes next. */
function nextService(c: Component): Component {
  return COMPONENTS[(COMPONENTS.indexOf(c) + 1) % COMPONENTS.length]!;
}

export interface OnewayTrial {
  rate: number;
  counted: number;
  windowMs: number;
  jobs: number;
  /** jobs / (last processed - first added), ms clocks */
  endToEndRate: number;
  cpuUsPerJob: number;
  redis: ReturnType<typeof commandsPer>;
}

/**
 * One trial of a chain peer: `chains` chains at once, each `hops` jobs after its first, started round
 * the services and partitions with the workload's envelopes as data (each service adds the next job
 * itself, so the bench adds only the first ones); the rate over the central 80% of the processing times.
 */
export async function chainTrial(ctx: BenchContext, peer: OnewayPeer, o: { envelopes: Envelope[]; chains: number; hops: number; tag: string }): Promise<OnewayTrial> {
  const rcpu0 = await redisCpuSeconds(ctx.redis.admin);
  const cs0 = await commandStats(ctx.redis.admin);
  const t0 = Date.now();
  await Promise.all(Array.from({ length: o.chains }, (_, k) => {
    const e = o.envelopes[k % o.envelopes.length]!;
    const data: ChainJobData = { ...jobDataOf(e), chain: `${o.tag}-${k}`, hops: o.hops };
    return peer.producers[e.to][k % peer.partitions]!.add('deliver', data, { ...TRANSPORT_JOB_OPTIONS, jobId: `${data.chain}.${o.hops}` });
  }));
  return finishTrial(ctx, peer, { jobs: o.chains * (o.hops + 1), t0, rcpu0, cs0 });
}

/**
 * One trial: `jobs` deliveries (the real envelopes of the workload, in the cluster's per-service mix)
 * added with addBulk in chunks of 500 while the workers consume; the rate over the central 80% of
 * the processing times (as for the cluster: ramp-up and the last queue draining alone left out).
 */
export async function onewayTrial(ctx: BenchContext, peer: OnewayPeer, o: { envelopes: Envelope[]; jobs: number }): Promise<OnewayTrial> {
  // deterministic interleaving in the mix of the recorded inputs (the envelopes are those inputs)
  // and spread round the partitions, as the cluster's concurrent runs spread over them
  const plan: Array<{ q: Queue; data: ReturnType<typeof jobDataOf> }> = [];
  for (let i = 0; i < o.jobs; i++) {
    const e = o.envelopes[i % o.envelopes.length]!;
    plan.push({ q: peer.producers[e.to][i % peer.partitions]!, data: jobDataOf(e) });
  }
  const rcpu0 = await redisCpuSeconds(ctx.redis.admin);
  const cs0 = await commandStats(ctx.redis.admin);
  const t0 = Date.now();
  for (let i = 0; i < plan.length; i += PRODUCER_BULK) {
    const chunk = plan.slice(i, i + PRODUCER_BULK);
    const by = new Map<Queue, typeof chunk>();
    for (const j of chunk) by.set(j.q, [...(by.get(j.q) ?? []), j]);
    await Promise.all([...by].map(([q, js]) => q.addBulk(js.map((j) => ({ name: 'deliver', data: j.data, opts: TRANSPORT_JOB_OPTIONS })))));
  }
  return finishTrial(ctx, peer, { jobs: o.jobs, t0, rcpu0, cs0 });
}

/** Waits until the peer's queues are drained, then reads what its workers report. */
async function finishTrial(ctx: BenchContext, peer: OnewayPeer, o: { jobs: number; t0: number; rcpu0: number; cs0: Awaited<ReturnType<typeof commandStats>> }): Promise<OnewayTrial> {
  const { t0, rcpu0, cs0 } = o;
  // drained: nothing waiting or active on any queue
  for (const deadline = Date.now() + DRAIN_TIMEOUT_MS; ;) {
    const counts = await Promise.all(Object.values(peer.producers).flat().map((q) => q.getJobCounts('wait', 'active', 'prioritized', 'delayed')));
    if (counts.every((k) => Object.values(k).every((v) => v === 0))) break;
    if (Date.now() > deadline) throw new Error(`raw BullMQ peer: its queues not drained within ${DRAIN_TIMEOUT_MS / 1000} s (${JSON.stringify(counts.filter((k) => Object.values(k).some((v) => v > 0)))})`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const reports = await Promise.all(peer.workers.map((w) => w.report()));
  const rcpu1 = await redisCpuSeconds(ctx.redis.admin);
  const cs1 = await commandStats(ctx.redis.admin);
  const ts = reports.flatMap((r) => r.ts);
  if (ts.length < o.jobs) throw new Error(`raw BullMQ peer: ${ts.length} of ${o.jobs} jobs processed`);
  const c = centralRate(ts);
  const workerCpuUs = reports.reduce((a, r) => a + r.cpuUs, 0);
  return {
    rate: c.rate, counted: c.counted, windowMs: c.windowMs, jobs: ts.length,
    endToEndRate: (ts.length / Math.max(1, Math.max(...ts) - t0)) * 1000,
    cpuUsPerJob: (workerCpuUs + (rcpu1 - rcpu0) * 1e6) / ts.length,
    redis: commandsPer(cs0, cs1, ts.length),
  };
}
