import { resolvePolicy, type Envelope, type LogEntry, type NewLogEntry } from '../../contracts/src/index.js';
import { runEmbedded } from '../../engine/src/index.js';
import type { AppendBatch, RedisRunLog } from '../../event-log/src/index.js';
import { memoryUsage } from './bench-redis.js';
import { BENCH_POLICY, type BenchContext } from './context.js';
import { figure, fmt } from './figure.js';
import { WORKLOAD } from './plan.js';
import { RAW_PIPELINE, rawBytesPerEntry, rawXadd, storedJson, type RateTrial } from './raw-xadd.js';
import { atLeast, median, round } from './stats.js';
import type { Figure } from './types.js';
import { generatedScenario } from './workload.js';

/** A recorded run cut as the cluster appends it: each input with its outputs, under the input's marker. */
export function batchesOf(entries: readonly LogEntry[], runId: string): AppendBatch[] {
  const out: AppendBatch[] = [];
  for (const e of entries) {
    const { seq: _s, ...rest } = e;
    const ne: NewLogEntry = { ...rest, runId, ts: e.ts ?? 1_700_000_000_000 + e.seq };
    if (e.kind === 'input') out.push({ markerId: `${e.component}|${(e.payload as Envelope).id}`, entries: [] });
    out[out.length - 1]!.entries.push(ne);
  }
  return out;
}

/** The product: RedisRunLog.appendMany (one Lua call per input: marker check, INCRBY, one XADD per entry, HSET), pipelined 1000 calls at a time. */
export async function productAppend(log: RedisRunLog, copies: Array<{ runId: string; batches: AppendBatch[] }>): Promise<RateTrial> {
  let n = 0;
  const t = performance.now();
  for (const c of copies) {
    await log.appendMany(c.runId, c.batches);
    for (const b of c.batches) n += b.entries.length;
  }
  const ms = performance.now() - t;
  return { entries: n, ms, rate: (n / ms) * 1000 };
}

/** The product one input at a time, as a service appends: appendOnce awaited per input. */
export async function productAppendOnce(log: RedisRunLog, runId: string, batches: AppendBatch[]): Promise<RateTrial> {
  let n = 0;
  const t = performance.now();
  for (const b of batches) {
    await log.appendOnce(runId, b.markerId, b.entries);
    n += b.entries.length;
  }
  const ms = performance.now() - t;
  return { entries: n, ms, rate: (n / ms) * 1000 };
}

/** Bytes in Redis per entry of a run: its stream, markers and sequence counter. */
export async function logBytesPerEntry(ctx: BenchContext, log: RedisRunLog, runId: string): Promise<{ perEntry: number; stream: number; marks: number; seq: number; entries: number }> {
  const k = log.keys(runId);
  const r = ctx.redis.admin;
  const [stream, marks, seq, entries] = [await memoryUsage(r, k.log), await memoryUsage(r, k.marks), await memoryUsage(r, k.seq), await log.length(runId)];
  return { perEntry: (stream + marks + seq) / Math.max(1, entries), stream, marks, seq, entries };
}

/** 3. Log append: appendMany of realistic entries against raw pipelined XADD of the same JSON, trials interleaved. */
export async function measureLogAppend(ctx: BenchContext): Promise<Figure[]> {
  const ap = ctx.plan.append;
  const pr = ctx.progress;
  pr.phase(`3. log append: RedisRunLog.appendMany, raw pipelined XADD; trials interleaved`, ap.trials * 2 + 1);
  const run = await runEmbedded({ runId: 'src', scenario: generatedScenario({ ...WORKLOAD, vms: ap.vms }), policy: resolvePolicy(BENCH_POLICY), seed: 1 });
  const a: number[] = [];
  const b: number[] = [];
  const prebuilt: number[] = [];
  let mem = { product: 0, raw: 0 };
  // untimed: the script loaded, the connection warm
  await productAppend(ctx.log, [{ runId: 'append-warm', batches: batchesOf(run.entries.slice(0, 500), 'append-warm') }]);
  await ctx.log.deleteRun('append-warm');
  for (let t = 0; t < ap.trials; t++) {
    const copies = Array.from({ length: ap.copies }, (_, k) => ({ runId: `append-${t}-${k}`, batches: batchesOf(run.entries, `append-${t}-${k}`) }));
    const raws = copies.map((c) => ({ key: `${ctx.redis.prefix}:raw-append:{${c.runId}}`, batches: c.batches }));
    const x = await productAppend(ctx.log, copies);
    a.push(x.rate);
    pr.tick(`appendMany ${fmt(x.rate)} entries/s`);
    const y = await rawXadd(ctx.redis.admin, raws);
    b.push(y.rate);
    pr.tick(`raw JSON.stringify + XADD ${fmt(y.rate)} entries/s`);
    if (t === 0) mem = { product: (await logBytesPerEntry(ctx, ctx.log, copies[0]!.runId)).perEntry, raw: await rawBytesPerEntry(ctx.redis.admin, raws[0]!.key) };
    await ctx.redis.admin.unlink(...raws.map((r) => r.key));
    // the same with the JSON ready before the clock starts
    const z = await rawXadd(ctx.redis.admin, raws.map((r) => ({ key: r.key, json: storedJson(r.batches) })));
    prebuilt.push(z.rate);
    for (const c of copies) await ctx.log.deleteRun(c.runId);
    await ctx.redis.admin.unlink(...raws.map((r) => r.key));
  }
  const once = await productAppendOnce(ctx.log, 'append-once', batchesOf(run.entries, 'append-once'));
  pr.tick(`appendOnce one input at a time ${fmt(once.rate)} entries/s`);
  await ctx.log.deleteRun('append-once');
  const inputs = run.entries.filter((e) => e.kind === 'input').length;
  const sizes = storedJson(batchesOf(run.entries, 'x')).map((j) => Buffer.byteLength(j));
  return [figure({
    id: 'log-append', name: 'log append: entries/s of the idempotent append (RedisRunLog.appendMany)', unit: 'entries/s', trials: a,
    peer: { name: 'raw pipelined XADD of the same entries (JSON.stringify + XADD)', trials: b }, goal: atLeast(0.7),
    config: {
      entries: `an embedded run of the generated scenario at ${ap.vms} VMs (state hashes and timestamps as recorded): ${run.entries.length} entries in ${inputs} inputs (${round(run.entries.length / inputs, 2)} entries per marker), ${ap.copies} cop${ap.copies === 1 ? 'y' : 'ies'} per trial, each its own run`,
      entryBytes: { median: median(sizes), mean: Math.round(sizes.reduce((s, x) => s + x, 0) / sizes.length) },
      product: "appendMany: each entry JSON.stringify'd, one Lua call per input (HGET marker, INCRBY, one XADD per entry with id seq-0, HSET marker), pipelines of 1000 calls all sent before the first reply is awaited; the results' entries are parsed back only if read (not here)",
      peer: `from the same entry objects: JSON.stringify (the very JSON the log stores) and XADD key * e <json>, pipelines of ${RAW_PIPELINE}, all sent before the first reply is awaited, one connection`,
    },
    details: {
      rawXaddJsonReady: { rate: round(median(prebuilt)), ratio: round(median(a) / median(prebuilt)), note: 'the peer with the JSON strings built before the clock starts (XADD alone)' },
      appendOnceOneAtATime: { rate: round(once.rate), note: 'appendOnce awaited per input, as a service appends (one round trip, and with appendfsync always one fsync, per input)' },
      bytesPerEntry: { product: round(mem.product), raw: round(mem.raw), note: 'stream + markers + sequence counter, against the raw stream' },
    },
  })];
}
