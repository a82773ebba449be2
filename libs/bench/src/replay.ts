import { statSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePolicy, type LogEntry } from '../../contracts/src/index.js';
import { replayPages, runEmbedded, type ReplayResult } from '../../engine/src/index.js';
import { exportRun, openNdjson, type RedisRunLog } from '../../event-log/src/index.js';
import { BENCH_POLICY, type BenchContext } from './context.js';
import { figure, fmt } from './figure.js';
import { batchesOf } from './log-append.js';
import type { RateTrial } from './raw-xadd.js';
import { rawXrange } from './raw-xrange.js';
import { atLeast, round } from './stats.js';
import type { Figure } from './types.js';
import { generatedScenario, type WorkloadShape } from './workload.js';

export interface LongRun {
  runId: string;
  shape: WorkloadShape;
  entries: number;
  inputs: number;
  file: string;
  bytes: number;
  /** time the embedded engine took to record it (state hashes on, as every engine records them) */
  recordMs: number;
}

/** The shape whose embedded run records at least `minEntries` entries: `vms` VMs, rounds found from two probe runs. */
export async function longShape(minEntries: number, vms = 8): Promise<WorkloadShape> {
  const count = async (rounds: number) => (await runEmbedded({ runId: 'probe', scenario: generatedScenario({ vms, rounds, backgroundDma: 4 }), policy: resolvePolicy(BENCH_POLICY), seed: 1, hash: false })).entries.length;
  const a = await count(2);
  const b = await count(4);
  const per = (b - a) / 2;
  return { vms, rounds: Math.max(1, 2 + Math.ceil((minEntries - a) / per)), backgroundDma: 4 };
}

async function load(ctx: BenchContext, log: RedisRunLog, runId: string, entries: readonly LogEntry[], name: string): Promise<string> {
  const batches = batchesOf(entries, runId);
  for (let i = 0; i < batches.length; i += 5000) await log.appendMany(runId, batches.slice(i, i + 5000));
  await log.putRunMeta({ runId, scenario: { name }, policy: resolvePolicy(BENCH_POLICY), seed: 1, engine: 'embedded', startedAt: Date.now(), status: 'finished' });
  const file = join(ctx.tmpDir, `${runId}.ndjson`);
  await exportRun(log, runId, file, 'bench');
  return file;
}

/**
 * A long run, recorded by the embedded engine with state hashes (what `run` records in either
 * engine), written into Redis as the cluster would have (appendMany, one marker per input) with its
 * meta, and exported to NDJSON with exportRun.
 */
export async function recordLongRun(ctx: BenchContext, runId: string, minEntries: number): Promise<LongRun> {
  const shape = await longShape(minEntries);
  const scenario = generatedScenario(shape);
  const t = performance.now();
  const run = await runEmbedded({ runId, scenario, policy: resolvePolicy(BENCH_POLICY), seed: 1 });
  const recordMs = performance.now() - t;
  const file = await load(ctx, ctx.log, runId, run.entries, scenario.name);
  return { runId, shape, entries: run.entries.length, inputs: run.entries.filter((e) => e.kind === 'input').length, file, bytes: statSync(file).size, recordMs };
}

/** What `vsva-sim replay <file.ndjson>` does: openNdjson (each line parsed and checked against the entry schema) and replayPages. */
export async function replayFile(file: string): Promise<RateTrial & { result: ReplayResult }> {
  const t = performance.now();
  const reader = await openNdjson(file);
  const result = await replayPages(reader.pages);
  const ms = performance.now() - t;
  if (!result.identical) throw new Error(`replay of ${file} diverged at seq ${result.divergence?.seq}: ${result.divergence?.what}`);
  return { entries: result.entries, ms, rate: (result.entries / ms) * 1000, result };
}

/** What `vsva-sim replay <run-id>` does: RedisRunLog.readPages (XRANGE pages of 1000) and replayPages. */
export async function replayRedis(log: RedisRunLog, runId: string): Promise<RateTrial> {
  const t = performance.now();
  const result = await replayPages(log.readPages(runId, 1000));
  const ms = performance.now() - t;
  if (!result.identical) throw new Error(`replay of ${runId} diverged at seq ${result.divergence?.seq}`);
  return { entries: result.entries, ms, rate: (result.entries / ms) * 1000 };
}

/** 4. Replay over an exported run against raw XRANGE + JSON.parse of the same entries, trials interleaved. */
export async function measureReplay(ctx: BenchContext): Promise<Figure[]> {
  const rp = ctx.plan.replay;
  const pr = ctx.progress;
  pr.phase(`4. replay: a run of >= ${fmt(rp.minEntries)} entries (embedded engine, loaded with appendMany, exported); replay of the export, raw XRANGE + JSON.parse; trials interleaved`, rp.trials * 2 + 2);
  const long = await recordLongRun(ctx, 'replay-long', rp.minEntries);
  pr.note(`${long.entries} entries (${long.inputs} inputs) recorded in ${(long.recordMs / 1000).toFixed(1)} s, ${(long.bytes / 2 ** 20).toFixed(1)} MiB exported`);
  const a: number[] = [];
  const b: number[] = [];
  try {
    for (let t = 0; t < rp.trials; t++) {
      const x = await replayFile(long.file);
      a.push(x.rate);
      pr.tick(`replay ${fmt(x.rate)} entries/s (${(x.ms / 1000).toFixed(2)} s)`);
      const y = await rawXrange(ctx.redis.admin, ctx.log.keys(long.runId).log);
      b.push(y.rate);
      pr.tick(`raw XRANGE + JSON.parse ${fmt(y.rate)} entries/s`);
    }
    const viaRedis = await replayRedis(ctx.log, long.runId);
    pr.tick(`replay from Redis pages ${fmt(viaRedis.rate)} entries/s`);
    // the same entries without state hashes: replay then folds without hashing
    const stripped: LogEntry[] = [];
    for await (const page of ctx.log.readPages(long.runId)) for (const e of page) {
      const { stateHash: _h, ...rest } = e;
      stripped.push({ ...rest, runId: 'replay-nohash' });
    }
    const noHash = await replayFile(await load(ctx, ctx.log, 'replay-nohash', stripped, 'replay-nohash'));
    pr.tick(`replay of the same entries without state hashes ${fmt(noHash.rate)} entries/s`);
    return [figure({
      id: 'replay', name: 'replay: entries/s of replay over an exported run', unit: 'entries/s', trials: a,
      peer: { name: 'raw XRANGE pages of 1000 + JSON.parse of the same entries', trials: b }, goal: atLeast(0.5),
      config: {
        run: `generated scenario, ${long.shape.vms} VMs, ${long.shape.rounds} rounds, ${long.shape.backgroundDma} background DMA per VM: ${long.entries} entries, ${long.inputs} inputs, a state hash on every input (as both engines record); NDJSON export ${(long.bytes / 2 ** 20).toFixed(1)} MiB`,
        product: "what `vsva-sim replay <file.ndjson>` does: openNdjson (each line JSON.parse'd and checked against the entry schema, run id and sequence) + replayPages (every input re-decided, the component's state re-hashed, every output compared field by field with the record)",
        peer: "XRANGE of the run's stream from Redis in pages of 1000 + JSON.parse of each entry",
      },
      details: { replayFromRedisPages: round(viaRedis.rate), replayWithoutStateHashes: round(noHash.rate), recordSeconds: round(long.recordMs / 1000) },
    })];
  } finally {
    await ctx.log.deleteRun(long.runId);
    await ctx.log.deleteRun('replay-nohash');
    if (ctx.quick) ctx.notes.push(`quick mode: replay over ${long.entries} entries (full: >= ${fmt(100_000)})`);
  }
}
