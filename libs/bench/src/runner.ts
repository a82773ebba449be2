import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisRunLog } from '../../event-log/src/index.js';
import { redactUrl } from '../../redis/src/index.js';
import { BullMqClient, queueName } from '../../transport/src/index.js';
import { openBenchRedis, type BenchRedis } from './bench-redis.js';
import { startClusterUnderTest, type ClusterUnderTest } from './cluster-under-test.js';
import { BENCH_POLICY, type BenchContext, type ClusterContext } from './context.js';
import { measureEmbedded } from './embedded.js';
import { measureHopLatency } from './hop-latency.js';
import { measureHopThroughput } from './hop-throughput.js';
import { measureLogAppend } from './log-append.js';
import { machineInfo } from './machine.js';
import { PLANS } from './plan.js';
import { measureReplay } from './replay.js';
import { measureScale } from './scale.js';
import { round } from './stats.js';
import type { BenchResult, Figure, Progress } from './types.js';

export interface BenchOptions {
  quick: boolean;
  /** the command line, for the record */
  command: string;
  version: string;
  progress: Progress;
  env?: NodeJS.ProcessEnv;
}

/** The order figures are reported in (the issue's): measured in another order, cheapest first. */
const ORDER = ['hop-throughput', 'hop-latency', 'log-append', 'replay', 'embedded', 'scale-hop-throughput', 'scale-cpu', 'scale-memory'];
const rank = (f: Figure) => {
  const i = ORDER.findIndex((p) => f.id.startsWith(p));
  const vms = Number(/-(\d+)vm$/.exec(f.id)?.[1] ?? 0);
  return (i < 0 ? ORDER.length : i) * 10_000 + vms;
};

/**
 * The whole bench in one invocation: a Redis of its own (or REDIS_URL) under a prefix of its own, the
 * in-process figures (log append, replay, embedded), then the five services for the cluster figures
 * (hop throughput, hop latency, scale); each figure's peer measured beside it, trials interleaved.
 * Everything it started is stopped and its keys deleted, also on failure.
 */
export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const t0 = Date.now();
  const plan = PLANS[o.quick ? 'quick' : 'full'];
  const pr = o.progress;
  const figures: Figure[] = [];
  const notes: string[] = [];
  const tmpDir = mkdtempSync(join(tmpdir(), 'vsva-bench-'));
  let redis: BenchRedis | undefined;
  let cluster: ClusterUnderTest | undefined;
  let log: RedisRunLog | undefined;
  let orchestrator: BullMqClient | undefined;
  try {
    pr.phase('redis', 0);
    redis = await openBenchRedis(o.env ?? process.env);
    const machine = await machineInfo(redis);
    pr.note(`${redis.source} ${redactUrl(redis.url)}: redis ${machine.redis.version}, appendonly ${machine.redis.appendonly}, appendfsync ${machine.redis.appendfsync}; key prefix ${redis.prefix}`);
    log = RedisRunLog.fromUrl(redis.url, { prefix: redis.prefix });
    const ctx: BenchContext = { quick: o.quick, plan, redis, log, progress: pr, tmpDir, notes, t0: performance.now() - (Date.now() - t0) };

    figures.push(...(await measureLogAppend(ctx)));
    figures.push(...(await measureReplay(ctx)));
    figures.push(...(await measureEmbedded(ctx)));

    pr.phase('cluster: starting the five services', 0);
    cluster = await startClusterUnderTest(redis.url, redis.prefix);
    pr.note(`up in ${cluster.startMs} ms: ${cluster.services.map((s) => `${s.component}:${s.pid}`).join(' ')}`);
    orchestrator = new BullMqClient({ url: redis.url, prefix: redis.prefix, queue: queueName('orchestrator', 'ctl'), service: 'orchestrator', timeoutMs: 600_000 });
    const cctx: ClusterContext = { ...ctx, cluster, orchestrator };
    const tp = await measureHopThroughput(cctx);
    figures.push(...tp.figures);
    figures.push(...(await measureHopLatency(cctx)));
    figures.push(...(await measureScale(cctx, tp.sustained)));

    pr.phase('stopping the services, deleting the keys', 0);
    await orchestrator.close();
    orchestrator = undefined;
    await cluster.stop();
    cluster = undefined;
    pr.done();
    figures.sort((a, b) => rank(a) - rank(b));
    return {
      tool: 'vsva-sim bench', version: o.version, mode: o.quick ? 'quick' : 'full', command: o.command,
      startedAt: new Date(t0).toISOString(), wallSeconds: round((Date.now() - t0) / 1000),
      machine: { ...machine, loadAvgAtEnd: loadavg().map((x) => Number(x.toFixed(2))) },
      config: {
        policy: BENCH_POLICY, prefix: redis.prefix,
        redis: `${machine.redis.source}: appendonly ${machine.redis.appendonly}, appendfsync ${machine.redis.appendfsync}${machine.redis.source === 'private redis-server' ? ' (startPrivateRedis, as `vsva-sim up` and `run --engine cluster` start it)' : ''}`,
        value: 'median of the trials (spread: min, max, (max-min)/median); ratio = value / peer value; trials of a figure and its peer interleaved',
        plan,
      },
      figures, notes,
    };
  } finally {
    await orchestrator?.close().catch(() => {});
    await cluster?.stop().catch(() => {});
    await log?.close().catch(() => {});
    await redis?.close().catch(() => {});
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
