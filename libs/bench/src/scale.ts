import { redisCpuSeconds } from './bench-redis.js';
import { inputsOf, runOnCluster, secondsLeft, type ClusterContext } from './context.js';
import { figure, fmt } from './figure.js';
import type { Sustained } from './hop-throughput.js';
import { logBytesPerEntry } from './log-append.js';
import { copyRaw, rawBytesPerEntry } from './raw-xadd.js';
import { atMost, median, round } from './stats.js';
import type { Figure } from './types.js';
import { generatedScenario, type WorkloadShape } from './workload.js';

/** The per-VM shape of the scale runs: alloc, map, bind; one round of remap, invalidate, DMA; a background DMA; teardown. */
export const SCALE_SHAPE: Omit<WorkloadShape, 'vms'> = { vmsPerParent: 4, rounds: 1, backgroundDma: 1 };

export interface ScaleTrial {
  vms: number;
  entries: number;
  hops: number;
  wallMs: number;
  /** hops per second over the run (first to last recorded input) */
  rate: number;
  /** CPU of the five services + Redis during the run, per log entry (µs); null without /proc */
  cpuUsPerEntry: number | null;
  /** Redis bytes per entry: the run's stream, markers and sequence counter */
  bytesPerEntry: number;
  /** the same stored entries XADDed raw (`XADD key * e <json>`) into a plain stream */
  rawBytesPerEntry: number;
  verdict: string;
}

/** One run of `vms` VMs through the cluster: its throughput, CPU per entry and Redis memory per entry. */
export async function scaleTrial(ctx: ClusterContext, vms: number, tag: string): Promise<ScaleTrial> {
  const scenario = generatedScenario({ vms, ...SCALE_SHAPE });
  const runId = `scale-${vms}-${tag}`;
  const cpu0 = ctx.cluster.cpuSeconds();
  const rcpu0 = await redisCpuSeconds(ctx.redis.admin);
  const t = Date.now();
  const report = await runOnCluster(ctx, runId, scenario);
  const wallMs = Date.now() - t;
  const cpu1 = ctx.cluster.cpuSeconds();
  const rcpu1 = await redisCpuSeconds(ctx.redis.admin);
  const ts = (await inputsOf(ctx.log, [runId])).map((e) => e.ts ?? 0);
  const mem = await logBytesPerEntry(ctx, ctx.log, runId);
  const rawKey = `${ctx.redis.prefix}:raw-scale:{${runId}}`;
  await copyRaw(ctx.redis.admin, ctx.log.keys(runId).log, rawKey);
  const raw = await rawBytesPerEntry(ctx.redis.admin, rawKey);
  await ctx.log.deleteRun(runId);
  await ctx.redis.admin.unlink(rawKey);
  return {
    vms, entries: mem.entries, hops: ts.length, wallMs,
    rate: (ts.length / Math.max(1, Math.max(...ts) - Math.min(...ts))) * 1000,
    cpuUsPerEntry: cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0 + rcpu1 - rcpu0) * 1e6) / mem.entries,
    bytesPerEntry: mem.perEntry, rawBytesPerEntry: raw, verdict: report.verdict,
  };
}

const vmsText = (n: number) => `${n} VM${n === 1 ? '' : 's'}`;

/**
 * 6. Scale: one run of N VMs at each N, its hop throughput, CPU and Redis memory per log entry. Stops
 * adding trials (or sizes) that would not fit in the plan's budget, and says so.
 */
export async function measureScale(ctx: ClusterContext, sustained: Sustained): Promise<Figure[]> {
  const sc = ctx.plan.scale;
  const pr = ctx.progress;
  pr.phase(`6. scale: one run of N VMs through the cluster, N = ${sc.vms.join(', ')}`, sc.vms.length * sc.trials);
  const by = new Map<number, ScaleTrial[]>();
  let prev: ScaleTrial | undefined;
  for (const n of sc.vms) {
    const ts: ScaleTrial[] = [];
    for (let t = 0; t < sc.trials; t++) {
      const last = ts[ts.length - 1];
      const estimate = last ? last.wallMs / 1000 : prev ? (prev.wallMs / 1000) * (n / prev.vms) : 0;
      // the smallest size always gets its trial: every kind of figure is in the output
      if ((by.size > 0 || t > 0) && secondsLeft(ctx) - 5 < estimate) {
        if (ts.length) ctx.notes.push(`scale: ${vmsText(n)} stopped after ${ts.length} of ${sc.trials} trials: another (~${Math.round(estimate)} s) would not fit in the ${ctx.plan.budgetSeconds} s budget`);
        break;
      }
      const r = await scaleTrial(ctx, n, String(t));
      ts.push(r);
      pr.tick(`${vmsText(n)}: ${r.entries} entries, ${fmt(r.rate)} hops/s, ${r.cpuUsPerEntry === null ? '?' : fmt(r.cpuUsPerEntry)} µs CPU/entry, ${fmt(r.bytesPerEntry)} B/entry (raw ${fmt(r.rawBytesPerEntry)}), ${(r.wallMs / 1000).toFixed(1)} s, ${r.verdict}`);
    }
    if (!ts.length) break;
    by.set(n, ts);
    prev = ts[ts.length - 1];
  }
  const measured = [...by.keys()];
  const skipped = sc.vms.filter((n) => !by.has(n));
  if (skipped.length) ctx.notes.push(`scale: ${skipped.map(vmsText).join(', ')} not measured: would not fit in the ${ctx.plan.budgetSeconds} s budget`);
  if (ctx.quick) ctx.notes.push(`quick mode: scale at ${measured.join(', ')} VM(s), ${sc.trials} trial each (full: 1, 16, 64, 256 VMs, 3 trials)`);
  const shape = `generated scenario, per VM: one mdev on a parent shared by ${SCALE_SHAPE.vmsPerParent} VMs; pasid_alloc, guest_map, bind; ${SCALE_SHAPE.rounds} round of guest_map + iotlb_invalidate + DMA; ${SCALE_SHAPE.backgroundDma} background DMA; quiesce; vm_teardown; the VMs' steps interleaved. One run per trial, alone on the cluster.`;
  const figures: Figure[] = [];
  for (const n of measured) {
    const ts = by.get(n)!;
    const config = { vms: n, entries: ts[0]!.entries, hops: ts[0]!.hops, trials: ts.length, shape };
    const details = { wallSeconds: ts.map((x) => round(x.wallMs / 1000)), verdicts: ts.map((x) => x.verdict) };
    figures.push(figure({
      id: `scale-hop-throughput-${n}vm`, name: `scale: hop throughput of one run of ${vmsText(n)}`, unit: 'hops/s', trials: ts.map((x) => x.rate),
      peer: { name: 'hop throughput of the cluster under sustained load (figure hop-throughput)', trials: sustained.rateTrials }, goal: null,
      config: { ...config, measure: 'recorded inputs / (last input ts - first input ts). One run has one foreground step in flight at a time (background DMA overlaps it): latency-bound when small; the ratio is the share of the sustained capacity one run uses' }, details,
    }));
    if (ts.every((x) => x.cpuUsPerEntry !== null)) {
      // the chain: each size against the one before (a step of 4x or 16x VMs); the smallest against the sustained load
      const i = measured.indexOf(n);
      const before = i > 0 ? by.get(measured[i - 1]!)! : null;
      figures.push(figure({
        id: `scale-cpu-per-entry-${n}vm`, name: `scale: CPU per log entry, one run of ${vmsText(n)} (five services + Redis)`, unit: 'µs/entry', trials: ts.map((x) => x.cpuUsPerEntry!),
        peer: before
          ? { name: `the same at ${vmsText(before[0]!.vms)} (the size before)`, trials: before.map((x) => x.cpuUsPerEntry!) }
          : { name: `the same under sustained load (figure hop-throughput: ${ctx.plan.throughput.lanes} runs of ${ctx.plan.throughput.shape.vms} VMs at once)`, trials: sustained.cpuUsPerEntryTrials },
        goal: atMost(1.25),
        config: { ...config, measure: 'utime+stime of the five service processes (/proc) + Redis used_cpu_user+sys over the run, / its entries; includes what is paid once per run (run.start, run.open to each service, the report and its checks) and per second of it (the orchestrator polling the log every 500 ms, BullMQ timers)' },
        details: { ...details, vsSustained: round(median(ts.map((x) => x.cpuUsPerEntry!)) / median(sustained.cpuUsPerEntryTrials)) },
      }));
    }
    figures.push(figure({
      id: `scale-memory-per-entry-${n}vm`, name: `scale: Redis memory per log entry, one run of ${vmsText(n)}`, unit: 'B/entry', trials: ts.map((x) => x.bytesPerEntry),
      peer: { name: 'raw XADD of the same entries into a plain stream (auto ids)', trials: ts.map((x) => x.rawBytesPerEntry) }, goal: atMost(1.25),
      config: { ...config, measure: "MEMORY USAGE (SAMPLES 0) of the run's stream + marker hash + sequence counter, / entries" }, details,
    }));
  }
  // how flat: the per-entry costs from 16 VMs up (below, the fixed costs of a run weigh in)
  const from = measured.filter((n) => n >= 16);
  const series = (f: (x: ScaleTrial) => number | null) => from.map((n) => median(by.get(n)!.map((x) => f(x) ?? NaN)));
  if (from.length > 1) {
    const cpu = series((x) => x.cpuUsPerEntry);
    const mem = series((x) => x.bytesPerEntry);
    const span = (xs: number[]) => round(Math.max(...xs) / Math.min(...xs), 3);
    ctx.notes.push(`scale, how flat from ${from.join(' to ')} VMs (medians): CPU per entry ${cpu.map(fmt).join(' -> ')} µs (max/min ${span(cpu)}x), Redis memory per entry ${mem.map(fmt).join(' -> ')} B (max/min ${span(mem)}x)`);
  }
  return figures;
}
