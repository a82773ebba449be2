import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignalHook } from '../../cluster/src/index.js';
import { RedisRunLog } from '../../event-log/src/index.js';
import { redactUrl } from '../../redis/src/index.js';
import { BullMqClient, queueName } from '../../transport/src/index.js';
import { openBenchRedis, type BenchRedis } from './bench-redis.js';
import { startClusterUnderTest, type ClusterUnderTest } from './cluster-under-test.js';
import { BENCH_POLICY, type BenchContext, type ClusterContext, type LocalContext } from './context.js';
import { measureChaos } from './chaos.js';
import { measureEmbedded } from './embedded.js';
import { measureExplore } from './explore.js';
import type { MainlineResult } from './explore-table.js';
import { measureHopLatency } from './hop-latency.js';
import { measureHopThroughput } from './hop-throughput.js';
import { measureLogAppend } from './log-append.js';
import { machineInfo } from './machine.js';
import { PLANS } from './plan.js';
import { measureReplay } from './replay.js';
import { measureScale } from './scale.js';
import { measureScaleOut } from './scale-out.js';
import { round } from './stats.js';
import type { BenchResult, Figure, Machine, Progress } from './types.js';

/** The figures `--only` can name: each a measurement, in the order they are measured. */
export const FIGURE_GROUPS = ['log-append', 'replay', 'embedded', 'chaos', 'hop-throughput', 'hop-latency', 'scale', 'scale-out', 'explore'] as const;
export type FigureGroup = (typeof FIGURE_GROUPS)[number];

export interface BenchOptions {
  quick: boolean;
  /**
   * Only these figures (absent: all). Redis is opened only if one of them needs it (all but
   * `embedded`, `chaos` and `explore`), the services only for the cluster figures; `scale` measures hop-throughput too (its
   * sizes start from the sustained rate).
   */
  only?: readonly FigureGroup[];
  /**
   * Who stops what the bench started when the process is told to end (the CLI's process guard: Ctrl-C,
   * SIGTERM, SIGHUP): the services and a private redis-server. Absent: the services stop on their
   * own signal handlers and a private server only when runBench returns.
   */
  guard?: SignalHook;
  /** the command line, for the record */
  command: string;
  version: string;
  progress: Progress;
  env?: NodeJS.ProcessEnv;
}

/** The order figures are reported in (the issue's): measured in another order, cheapest first. */
const ORDER = ['hop-throughput', 'hop-latency', 'log-append', 'replay', 'embedded', 'chaos-embedded', 'scale-hop-throughput', 'scale-cpu', 'scale-memory', 'scale-out-redis-', 'scale-out-redis-cluster-', 'explore-bug'];
const rank = (f: Figure) => {
  // the longest prefix that matches: scale-out-redis-cluster- before scale-out-redis-
  const i = ORDER.reduce((best, p, k) => (f.id.startsWith(p) && (best < 0 || p.length > ORDER[best]!.length) ? k : best), -1);
  const vms = Number(/-(\d+)(?:vm|r)$/.exec(f.id)?.[1] ?? 0);
  return (i < 0 ? ORDER.length : i) * 10_000 + vms;
};

/**
 * The whole bench in one invocation: a Redis of its own (or REDIS_URL) under a prefix of its own, the
 * in-process figures (log append, replay, embedded), then the five services for the cluster figures
 * (hop throughput, hop latency, scale); each figure's peer measured beside it, trials interleaved.
 * `only` narrows it to some figures, and to what they need. Everything it started is stopped and its
 * keys deleted, also on failure.
 */
export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const t0 = Date.now();
  const plan = PLANS[o.quick ? 'quick' : 'full'];
  const pr = o.progress;
  const figures: Figure[] = [];
  const notes: string[] = [];
  let mainline: MainlineResult | undefined;
  const want = (g: FigureGroup) => !o.only || o.only.includes(g);
  const needsCluster = want('hop-throughput') || want('hop-latency') || want('scale');
  const needsRedis = needsCluster || want('scale-out') || want('log-append') || want('replay');
  const tmpDir = mkdtempSync(join(tmpdir(), 'vsva-bench-'));
  let redis: BenchRedis | undefined;
  let withdrawRedis: (() => void) | undefined;
  let cluster: ClusterUnderTest | undefined;
  let log: RedisRunLog | undefined;
  let orchestrator: BullMqClient | undefined;
  try {
    const local: LocalContext = { quick: o.quick, plan, progress: pr, tmpDir, notes, t0: performance.now() - (Date.now() - t0) };
    let machine: Machine = await machineInfo();
    let ctx: BenchContext | undefined;
    if (needsRedis) {
      pr.phase('redis', 0);
      redis = await openBenchRedis(o.env ?? process.env);
      const opened = redis;
      withdrawRedis = o.guard?.(`the bench's Redis (${opened.source}; keys under ${opened.prefix})`, () => opened.close());
      const m = await machineInfo(redis);
      machine = m;
      pr.note(`${redis.source} ${redactUrl(redis.url)}: redis ${m.redis.version}, appendonly ${m.redis.appendonly}, appendfsync ${m.redis.appendfsync}; key prefix ${redis.prefix}`);
      log = RedisRunLog.fromUrl(redis.url, { prefix: redis.prefix });
      ctx = { ...local, redis, log };
    }

    if (ctx && want('log-append')) figures.push(...(await measureLogAppend(ctx)));
    if (ctx && want('replay')) figures.push(...(await measureReplay(ctx)));
    if (want('embedded')) figures.push(...(await measureEmbedded(local)));
    if (want('chaos')) figures.push(...(await measureChaos(local)));
    if (want('explore')) {
      const x = await measureExplore(local);
      figures.push(...x.figures);
      mainline = x.mainline;
    }

    if (ctx && redis && needsCluster) {
      pr.phase('cluster: starting the five services', 0);
      cluster = await startClusterUnderTest(redis.url, redis.prefix, o.guard);
      pr.note(`up in ${cluster.startMs} ms: ${cluster.services.map((s) => `${s.component}:${s.pid}`).join(' ')}`);
      orchestrator = new BullMqClient({ url: redis.url, prefix: redis.prefix, queue: queueName('orchestrator', 'ctl'), service: 'orchestrator', timeoutMs: 600_000 });
      const cctx: ClusterContext = { ...ctx, cluster, orchestrator };
      // scale starts from the sustained hop rate: it needs hop-throughput measured first
      const tp = want('hop-throughput') || want('scale') ? await measureHopThroughput(cctx) : undefined;
      if (tp) figures.push(...tp.figures);
      if (want('hop-latency')) figures.push(...(await measureHopLatency(cctx)));
      if (tp && want('scale')) figures.push(...(await measureScale(cctx, tp.sustained)));

      pr.phase('stopping the services, deleting the keys', 0);
      await orchestrator.close();
      orchestrator = undefined;
      await cluster.stop();
      cluster = undefined;
    }
    // clusters of its own, with replicas, after the others are stopped
    if (ctx && want('scale-out')) figures.push(...(await measureScaleOut(ctx, o.guard)));
    pr.done();
    figures.sort((a, b) => rank(a) - rank(b));
    return {
      tool: 'vsva-sim bench', version: o.version, mode: o.quick ? 'quick' : 'full', ...(o.only ? { only: [...o.only] } : {}), command: o.command,
      startedAt: new Date(t0).toISOString(), wallSeconds: round((Date.now() - t0) / 1000),
      machine: { ...machine, loadAvgAtEnd: loadavg().map((x) => Number(x.toFixed(2))) },
      config: {
        policy: BENCH_POLICY, prefix: redis?.prefix ?? null,
        redis: machine.redis
          ? `${machine.redis.source}: appendonly ${machine.redis.appendonly}, appendfsync ${machine.redis.appendfsync}${machine.redis.source === 'private redis-server' ? ' (startPrivateRedis, as `vsva-sim up` and `run --engine cluster` start it)' : ''}`
          : 'not used (none of the figures asked for needs it)',
        value: 'median of the trials (spread: min, max, (max-min)/median); ratio = value / peer value; trials of a figure and its peer interleaved',
        plan,
      },
      figures, ...(mainline ? { explore: { mainline } } : {}), notes,
    };
  } finally {
    await orchestrator?.close().catch(() => {});
    await cluster?.stop().catch(() => {});
    await log?.close().catch(() => {});
    await redis?.close().catch(() => {});
    withdrawRedis?.();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
