import { DEFAULT_RECOVERY } from '../../cluster/src/index.js';
import { loadConfig } from '../../config/src/index.js';
import { COMPONENTS, resolvePolicy, type Component, type Envelope } from '../../contracts/src/index.js';
import { runEmbedded } from '../../engine/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import { CHANNEL_CONCURRENCY } from '../../transport/src/index.js';
import { commandStats, commandsPer, redisCpuSeconds, withFsync } from './bench-redis.js';
import { processCpuSeconds } from './proc-cpu.js';
import { chainTrial, onewayTrial, PRODUCER_BULK, startOnewayPeer, TRANSPORT_JOB_OPTIONS, type OnewayTrial } from './bullmq-oneway.js';
import { BENCH_POLICY, bytesOfJob, inputsOf, mixOf, runOnCluster, type ClusterContext } from './context.js';
import { figure, fmt } from './figure.js';
import { atLeast, centralRate, mean, median, round } from './stats.js';
import type { Figure } from './types.js';
import { generatedScenario } from './workload.js';

export interface ClusterHopTrial {
  /** hops (recorded inputs) per second over the central 80% of their decision times */
  rate: number;
  counted: number;
  windowMs: number;
  runs: number;
  notPass: number;
  hops: number;
  entries: number;
  /** CPU of the five services + Redis over the trial, per hop (µs); null without /proc */
  cpuUsPerHop: number | null;
  mix: Record<Component, number>;
  jobBytes: { median: number; mean: number };
  /** per hop: CPU µs of each service (its replicas summed) and of Redis */
  cpuUsPerHopBy: Record<string, number> | null;
  /** per hop: Redis commands (calls and µs of command time), the top five by time */
  redis: ReturnType<typeof commandsPer>;
}

/**
 * The cluster under a sustained load: `lanes` runs of the scenario asked of the orchestrator at once
 * (a running cluster serves many runs at once, each in its own keys). Every recorded input is one hop
 * (delivered over BullMQ, validated, decided, appended with its marker, its commands sent on); the
 * rate is taken over the central 80% of the inputs' decision times (`ts` in the log), so that the
 * ramp-up and the tail of the last runs do not count.
 */
export async function clusterHopTrial(ctx: ClusterContext, o: { scenario: Scenario; lanes: number; tag: string }): Promise<ClusterHopTrial> {
  const cpu0 = ctx.cluster.cpuSeconds();
  const rcpu0 = await redisCpuSeconds(ctx.redis.admin);
  const each0 = ctx.cluster.services.map((s) => processCpuSeconds(s.pid));
  const cs0 = await commandStats(ctx.redis.admin);
  const runIds = Array.from({ length: o.lanes }, (_, lane) => `tp-${o.tag}-${lane}`);
  const reports = await Promise.all(runIds.map((id, lane) => runOnCluster(ctx, id, o.scenario, 1 + lane)));
  const cpu1 = ctx.cluster.cpuSeconds();
  const rcpu1 = await redisCpuSeconds(ctx.redis.admin);
  const each1 = ctx.cluster.services.map((s) => processCpuSeconds(s.pid));
  const cs1 = await commandStats(ctx.redis.admin);
  const inputs = await inputsOf(ctx.log, runIds);
  const us = (a: number | null, b: number | null) => (a === null || b === null ? NaN : Math.round(((b - a) * 1e6) / inputs.length));
  // per service, its replicas summed
  const byService: Record<string, number> = {};
  for (const [i, s] of ctx.cluster.services.entries()) byService[s.component] = (byService[s.component] ?? 0) + us(each0[i]!, each1[i]!);
  const cpuUsPerHopBy = each0.every((x) => x !== null) ? { ...byService, redis: us(rcpu0, rcpu1) } : null;
  let entries = 0;
  for (const id of runIds) entries += await ctx.log.length(id);
  const sizes = inputs.map((e) => bytesOfJob(e.payload as Envelope));
  for (const id of runIds) await ctx.log.deleteRun(id);
  const c = centralRate(inputs.map((e) => e.ts ?? 0));
  return {
    rate: c.rate, counted: c.counted, windowMs: c.windowMs,
    runs: runIds.length, notPass: reports.filter((r) => r.verdict !== 'pass').length,
    hops: inputs.length, entries,
    cpuUsPerHop: cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0 + rcpu1 - rcpu0) * 1e6) / inputs.length,
    mix: mixOf(inputs),
    jobBytes: { median: median(sizes), mean: Math.round(mean(sizes)) },
    cpuUsPerHopBy,
    redis: commandsPer(cs0, cs1, inputs.length),
  };
}

/** What the scale figure compares a single run's cost with: the cluster's cost per entry under sustained load. */
export interface Sustained {
  rateTrials: number[];
  cpuUsPerEntryTrials: number[];
}

/** 1. Hop throughput: the cluster under concurrent runs against raw BullMQ one-way, trials interleaved. */
export async function measureHopThroughput(ctx: ClusterContext): Promise<{ figures: Figure[]; sustained: Sustained }> {
  const tp = ctx.plan.throughput;
  const pr = ctx.progress;
  const scenario = generatedScenario(tp.shape);
  const emb = await runEmbedded({ runId: 'bench-envelopes', scenario, policy: resolvePolicy(BENCH_POLICY), seed: 1 });
  const envelopes = emb.entries.filter((e) => e.kind === 'input').map((e) => e.payload as Envelope);
  // the peers mirror the services' layout: a queue per partition, all of a service's in one process
  const partitions = loadConfig().partitions;
  const peer = await startOnewayPeer(ctx, { partitions });
  const naive = await startOnewayPeer(ctx, { naive: true, partitions });
  const chain = await startOnewayPeer(ctx, { chain: true, partitions });
  // as many chains as the cluster's runs have VMs (each VM's work is a flow of hops), and at least two per
  // queue, so that no worker of the peer waits for want of a job; as many jobs as the other peers'
  const chains = Math.max(tp.lanes * tp.shape.vms, 2 * COMPONENTS.length * partitions);
  const hops = Math.max(1, Math.round(tp.peerJobs / chains) - 1);
  const cT: ClusterHopTrial[] = [];
  const pT: OnewayTrial[] = [];
  const nT: OnewayTrial[] = [];
  const chT: OnewayTrial[] = [];
  let everysec: { cluster: ClusterHopTrial; peer: OnewayTrial } | null = null;
  pr.phase('1. hop throughput: the cluster under concurrent runs, raw BullMQ one-way, BullMQ + XADD, a BullMQ chain; trials interleaved', tp.trials * 4 + (tp.everysecVariant ? 2 : 0));
  try {
    // untimed: JIT, connections, the services' first runs, the peer's first jobs
    await clusterHopTrial(ctx, { scenario: generatedScenario({ vms: 1, rounds: 1, backgroundDma: 1 }), lanes: 4, tag: 'warm' });
    await onewayTrial(ctx, peer, { envelopes, jobs: 500 });
    await onewayTrial(ctx, naive, { envelopes, jobs: 500 });
    await chainTrial(ctx, chain, { envelopes, chains, hops: 10, tag: 'warm' });
    for (let t = 0; t < tp.trials; t++) {
      const c = await clusterHopTrial(ctx, { scenario, lanes: tp.lanes, tag: String(t) });
      cT.push(c);
      pr.tick(`cluster ${fmt(c.rate)} hops/s (${c.hops} hops in ${c.runs} runs, ${c.cpuUsPerHop === null ? '?' : fmt(c.cpuUsPerHop)} µs CPU/hop)`);
      const p = await onewayTrial(ctx, peer, { envelopes, jobs: tp.peerJobs });
      pT.push(p);
      pr.tick(`raw BullMQ ${fmt(p.rate)} jobs/s (${fmt(p.cpuUsPerJob)} µs CPU/job)`);
      const n = await onewayTrial(ctx, naive, { envelopes, jobs: tp.peerJobs });
      nT.push(n);
      pr.tick(`BullMQ + XADD ${fmt(n.rate)} jobs/s (${fmt(n.cpuUsPerJob)} µs CPU/job)`);
      const h = await chainTrial(ctx, chain, { envelopes, chains, hops, tag: String(t) });
      chT.push(h);
      pr.tick(`BullMQ chain ${fmt(h.rate)} hops/s (${fmt(h.cpuUsPerJob)} µs CPU/hop)`);
    }
    if (tp.everysecVariant) {
      everysec = await withFsync(ctx.redis, 'everysec', async () => {
        const c = await clusterHopTrial(ctx, { scenario, lanes: tp.lanes, tag: 'everysec' });
        pr.tick(`appendfsync everysec: cluster ${fmt(c.rate)} hops/s`);
        const p = await onewayTrial(ctx, peer, { envelopes, jobs: tp.peerJobs });
        pr.tick(`appendfsync everysec: raw BullMQ ${fmt(p.rate)} jobs/s`);
        return { cluster: c, peer: p };
      });
    }
  } finally {
    await peer.close();
    await naive.close();
    await chain.close();
  }
  const last = cT[cT.length - 1]!;
  const notPass = cT.reduce((a, c) => a + c.notPass, 0);
  if (notPass) ctx.notes.push(`hop throughput: ${notPass} of the workload's runs did not pass their checks (the figure counts their hops all the same)`);
  const cpuPerHop = (x: { cpuUsPerHop: number | null }) => x.cpuUsPerHop ?? NaN;
  const fig = figure({
    id: 'hop-throughput', name: 'hop throughput: cross-service messages/s through the transport, log append included', unit: 'hops/s', trials: cT.map((x) => x.rate),
    peer: { name: 'raw BullMQ one-way, same queues, workers, concurrency and payloads', unit: 'jobs/s', trials: pT.map((x) => x.rate) },
    goal: atLeast(0.8),
    config: {
      cluster: `five service processes (Nest + BullMqServer), each data queue split into ${partitions} partitions, each partition consumed at concurrency ${CHANNEL_CONCURRENCY.data}; ${tp.lanes} runs asked of the orchestrator at once (run.start on its control queue), each a generated scenario of ${tp.shape.vms} VMs on one shared parent: pasid_alloc, guest_map, bind, then ${tp.shape.rounds} round(s) of guest_map + iotlb_invalidate (PASID-selective, then page-selective) + DMA, an unbind/bind every other round, ${tp.shape.backgroundDma} background DMA per VM, quiesce, vm_teardown (${emb.entries.length} entries, ${envelopes.length} inputs per run). A hop is one recorded input: job consumed, envelope validated, decided and state-hashed, appended with its marker by the Lua script, its commands added to the next queues (one addBulk per receiving queue, the queues at once). Rate over the central 80% of the inputs' decision times (ts in the log).`,
      peer: `${partitions} queues per service (as its partitions), each consumed by one bare bullmq Worker (concurrency ${CHANNEL_CONCURRENCY.data}, as the services'; lock ${DEFAULT_RECOVERY.lockMs} ms, stalled check ${DEFAULT_RECOVERY.stalledMs} ms, as the services), a service's Workers in one process of its own; the processor only notes the time. ${tp.peerJobs} jobs whose data are the real delivery packets ({pattern, data: envelope}) of the same workload, in its per-service mix and round the partitions, added by the bench process with addBulk(${PRODUCER_BULK}) while the workers consume; job options as the transport's (${JSON.stringify(TRANSPORT_JOB_OPTIONS)}), BullMQ's own job ids. Rate over the central 80% of the processing times.`,
      jobBytes: last.jobBytes,
      mix: Object.fromEntries(Object.entries(last.mix).map(([k, v]) => [k, round(v, 2)])),
    },
    details: {
      cpuUsPerHop: {
        cluster: round(median(cT.map(cpuPerHop))), peer: round(median(pT.map((x) => x.cpuUsPerJob))),
        note: "CPU of the five services + Redis per hop, against the five workers + Redis per job; the bench process (which asks for the runs, and adds the peer's jobs) is in neither",
      },
      cpuUsPerHopByProcess: last.cpuUsPerHopBy,
      redisPerHop: { cluster: last.redis, peer: pT[pT.length - 1]!.redis, note: 'Redis commands per hop (per job for the peer) in the last trial: calls and µs of command time, in all and for the top five by time (EVALSHA: BullMQ\'s scripts and the log\'s append)' },
      ...(everysec ? {
        appendfsyncEverysec: {
          cluster: round(everysec.cluster.rate), peer: round(everysec.peer.rate), ratio: round(everysec.cluster.rate / everysec.peer.rate),
          note: 'one trial each with the private Redis set to appendfsync everysec (the product runs with always): what the fsync per write costs each side',
        },
      } : {}),
      clusterTrials: cT.map((x) => ({ rate: round(x.rate), hops: x.hops, counted: x.counted, windowMs: x.windowMs, entries: x.entries, runs: x.runs, notPass: x.notPass, cpuUsPerHop: x.cpuUsPerHop === null ? null : round(x.cpuUsPerHop) })),
      peerTrials: pT.map((x) => ({ rate: round(x.rate), endToEndRate: round(x.endToEndRate), jobs: x.jobs, cpuUsPerJob: round(x.cpuUsPerJob) })),
    },
  });
  const naiveFig = figure({
    id: 'hop-throughput-naive', name: 'hop throughput against what a user would write first: a BullMQ job plus a separate log entry per hop', unit: 'hops/s', trials: cT.map((x) => x.rate),
    peer: { name: 'BullMQ one-way plus an XADD of the job\'s data per job, same queues, workers and payloads', unit: 'jobs/s', trials: nT.map((x) => x.rate) },
    goal: atLeast(1.0),
    config: {
      peer: `as the raw BullMQ peer of hop-throughput (its own queues and worker processes), and each job's processor first appends the job's data to a stream of its queue (XADD on a second connection, awaited) before the job completes: a log, without the marker that makes a redelivery a no-op, the run-state gate, validation or a decision. Trials interleaved with the cluster's and raw BullMQ's.`,
    },
    details: {
      cpuUsPerHop: { cluster: round(median(cT.map(cpuPerHop))), peer: round(median(nT.map((x) => x.cpuUsPerJob))), note: 'CPU of the five services + Redis per hop, against the five workers + Redis per job' },
      redisPerJob: nT[nT.length - 1]!.redis,
      peerTrials: nT.map((x) => ({ rate: round(x.rate), endToEndRate: round(x.endToEndRate), jobs: x.jobs, cpuUsPerJob: round(x.cpuUsPerJob) })),
    },
  });
  const chainFig = figure({
    id: 'hop-throughput-chain', name: 'hop throughput against what a hop costs in BullMQ alone: a job per hop, each added by the processor of the one before', unit: 'hops/s', trials: cT.map((x) => x.rate),
    peer: { name: 'BullMQ chain: each job\'s processor adds the next job to the next service\'s queue, same queues, workers and payloads', unit: 'hops/s', trials: chT.map((x) => x.rate) },
    // no goal of the issue's: the floor under a hop, for where the rest of a hop's cost goes
    goal: null,
    config: {
      peer: `as the raw BullMQ peer of hop-throughput (its own queues and worker processes), but the jobs travel: ${chains} chains at once (the runs' VMs, at least two per queue), each of ${hops + 1} jobs, round the services on one partition; each processor adds the next job (the transport's job options, a job id of its own, on a second connection as a service's outbox) before its job completes. What the cluster adds on top: validation, the decision and state hash, the log append with its marker and gate, Nest. Trials interleaved with the others.`,
    },
    details: {
      cpuUsPerHop: { cluster: round(median(cT.map(cpuPerHop))), peer: round(median(chT.map((x) => x.cpuUsPerJob))), note: 'CPU of the five services + Redis per hop, against the five workers + Redis per hop' },
      redisPerHop: chT[chT.length - 1]!.redis,
      peerTrials: chT.map((x) => ({ rate: round(x.rate), endToEndRate: round(x.endToEndRate), jobs: x.jobs, cpuUsPerJob: round(x.cpuUsPerJob) })),
    },
  });
  return {
    figures: [fig, naiveFig, chainFig],
    sustained: { rateTrials: cT.map((x) => x.rate), cpuUsPerEntryTrials: cT.map((x) => (cpuPerHop(x) * x.hops) / x.entries) },
  };
}
