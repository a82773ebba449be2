import { firstValueFrom } from 'rxjs';
import type { RunRequest } from '../../cluster/src/index.js';
import { COMPONENTS, resolvePolicy, type Component, type Envelope, type LogEntry } from '../../contracts/src/index.js';
import type { RunReport } from '../../runtime/src/index.js';
import type { RedisRunLog } from '../../event-log/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import type { BullMqClient } from '../../transport/src/index.js';
import type { BenchRedis } from './bench-redis.js';
import type { ClusterUnderTest } from './cluster-under-test.js';
import type { BenchPlan } from './plan.js';
import type { Progress } from './types.js';

/** What every figure runs against: the bench's Redis, prefix and log, its settings, and where to note what it left out. */
export interface BenchContext {
  quick: boolean;
  plan: BenchPlan;
  redis: BenchRedis;
  /** the run log under the bench's prefix (what the services write) */
  log: RedisRunLog;
  progress: Progress;
  /** a temporary folder for exports */
  tmpDir: string;
  notes: string[];
  /** performance.now() at the start: the plan's budget counts from here */
  t0: number;
}

/** What the in-process figures that need no Redis run against (`--only embedded`). */
export type LocalContext = Omit<BenchContext, 'redis' | 'log'>;

/** With the cluster up: the five services and a client of the orchestrator's control queue (`run.start`). */
export interface ClusterContext extends BenchContext {
  cluster: ClusterUnderTest;
  orchestrator: BullMqClient;
}

export const BENCH_POLICY = 'mainline';

/** Seconds left of the plan's budget. */
export const secondsLeft = (ctx: BenchContext) => ctx.plan.budgetSeconds - (performance.now() - ctx.t0) / 1000;

/** Asks the orchestrator to run a scenario (as the CLI and test/cluster/seed.e2e.test.ts do) and waits for its report. */
export async function runOnCluster(ctx: ClusterContext, runId: string, scenario: Scenario, seed = 1): Promise<RunReport> {
  const req: RunRequest = { runId, scenario, policy: resolvePolicy(BENCH_POLICY), seed, stepTimeoutMs: 120_000, reproduce: 'vsva-sim bench' };
  return firstValueFrom(ctx.orchestrator.send<RunReport>('run.start', req));
}

/** The input entries of runs (each one hop: a delivered envelope, decided, appended, its commands sent). */
export async function inputsOf(log: RedisRunLog, runIds: readonly string[]): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for (const id of runIds) for await (const page of log.readPages(id)) for (const e of page) if (e.kind === 'input') out.push(e);
  return out;
}

/** The BullMQ job data of a delivery, as the transport adds it (`dispatchEvent`: `{ pattern, data }`). */
export function jobDataOf(e: Envelope): { pattern: string; data: Envelope } {
  return { pattern: 'deliver', data: e };
}

export function bytesOfJob(e: Envelope): number {
  return Buffer.byteLength(JSON.stringify(jobDataOf(e)));
}

/** Inputs per component, as fractions. */
export function mixOf(inputs: ReadonlyArray<{ component: Component }>): Record<Component, number> {
  const n: Record<string, number> = Object.fromEntries(COMPONENTS.map((c) => [c, 0]));
  for (const e of inputs) n[e.component]!++;
  return Object.fromEntries(COMPONENTS.map((c) => [c, inputs.length ? n[c]! / inputs.length : 0])) as Record<Component, number>;
}
