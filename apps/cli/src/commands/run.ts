import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { firstValueFrom } from 'rxjs';
import { PolicyError, resolvePolicy, type LogEntry, type ResolvedPolicy } from '../../../../libs/contracts/src/index.js';
import type { ClusterConfig, RunRequest } from '../../../../libs/cluster/src/index.js';
import { COMPONENTS } from '../../../../libs/contracts/src/index.js';
import { runEmbedded } from '../../../../libs/engine/src/embedded.js';
import { buildReport, type RunReport } from '../../../../libs/engine/src/report.js';
import { timelineHeader, timelineLine } from '../../../../libs/engine/src/timeline.js';
import { loadScenario, ScenarioError, type Scenario } from '../../../../libs/scenario/src/index.js';
import { readClusterState, STATE_DIR } from '../cluster-state.js';
import { infra, usage } from '../errors.js';
import { formatReport } from '../format.js';
import { VERSION } from '../version.js';

export interface RunOptions {
  policy: string;
  set: string[];
  engine: 'auto' | 'cluster' | 'embedded';
  seed: number;
  json?: boolean;
  quiet?: boolean;
  timeout: number;
  stepTimeout: number;
  export?: string;
}

/** Human output goes to stderr, always: stdout carries only the `--json` object. */
const say = (s: string) => process.stderr.write(`${s}\n`);

export function parseSets(sets: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sets) {
    const i = s.indexOf('=');
    if (i <= 0) throw usage(`--set expects key=value, got '${s}' (e.g. --set vfio.iommu_device_null_check=false)`);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

export function loadRunInputs(file: string, o: Pick<RunOptions, 'policy' | 'set'>): { scenario: Scenario; policy: ResolvedPolicy } {
  let scenario: Scenario;
  try {
    scenario = loadScenario(file);
  } catch (e) {
    if (e instanceof ScenarioError) throw usage(e.message);
    throw e;
  }
  try {
    return { scenario, policy: resolvePolicy(o.policy, parseSets(o.set)) };
  } catch (e) {
    if (e instanceof PolicyError) throw usage(e.message);
    throw e;
  }
}

export function reproduceCommand(file: string, o: RunOptions, engine: string): string {
  const sets = o.set.map((s) => ` --set ${s}`).join('');
  return `npx vsva-sim run ${file} --policy ${o.policy}${sets} --engine ${engine} --seed ${o.seed}`;
}

function printTimeline(o: RunOptions): (es: LogEntry[]) => void {
  if (o.quiet) return () => {};
  say(timelineHeader());
  return (es) => es.forEach((e) => say(timelineLine(e)));
}

export async function runEmbeddedCommand(file: string, scenario: Scenario, policy: ResolvedPolicy, o: RunOptions): Promise<RunReport> {
  const t0 = Date.now();
  // a function of (scenario, policy, seed, version): so is its id, and so is its export, byte for byte
  const runId = `emb-${scenario.name}-${policy.preset}${Object.keys(policy.overrides).length ? '-set' : ''}-s${o.seed}`;
  const run = runEmbedded({ runId, scenario, policy, seed: o.seed, onEntries: printTimeline(o) });
  if (o.export) {
    const { writeNdjson } = await import('../../../../libs/event-log/src/ndjson.js');
    const meta = { runId, scenario: { name: scenario.name, file }, policy, seed: o.seed, engine: 'embedded' as const, startedAt: 0, status: 'finished' as const };
    await writeNdjson(meta, run.entries, o.export, VERSION, { exportedAt: null });
    say(`exported ${run.entries.length} entries to ${o.export}`);
  }
  return buildReport({
    runId, entries: run.entries, scenario: { name: scenario.name, file }, policy, engine: 'embedded', seed: o.seed,
    wallMs: Date.now() - t0, reproduce: reproduceCommand(file, o, 'embedded'), extraStats: { deliveries: run.deliveries },
  });
}

/** Uses the cluster `vsva-sim up` started when it is healthy; else starts one for this run and stops it after. */
export async function runClusterCommand(file: string, scenario: Scenario, policy: ResolvedPolicy, o: RunOptions): Promise<RunReport> {
  const t0 = Date.now();
  // the cluster stack (Nest, BullMQ) loads only when a cluster run needs it
  const { clusterHealth, resolveRedis, spawnServices, stopServices, waitHealthy } = await import('../../../../libs/cluster/src/index.js');
  const { RedisRunLog } = await import('../../../../libs/event-log/src/index.js');
  const { BullMqClient, queueName } = await import('../../../../libs/transport/src/index.js');
  // attach to healthy services: the cluster `vsva-sim up` started, or one on REDIS_URL (docker compose)
  const state = readClusterState();
  const envUrl = process.env.VSVA_REDIS_URL ?? process.env.REDIS_URL;
  const candidates = [
    ...(state ? [{ redisUrl: state.redisUrl, prefix: state.prefix }] : []),
    ...(envUrl ? [{ redisUrl: envUrl, prefix: process.env.VSVA_PREFIX ?? 'vsva' }] : []),
  ];
  let cfg: ClusterConfig | undefined;
  let cleanup = async () => {};
  let startMs = 0;
  for (const c of candidates) {
    const h = await clusterHealth(c).catch(() => null);
    if (h && COMPONENTS.every((k) => h[k])) {
      cfg = c;
      say(`cluster: using the running services (redis ${c.redisUrl}, prefix ${c.prefix})`);
      break;
    }
  }
  if (!cfg) {
    const dataDir = join(STATE_DIR, `redis-${process.pid}`);
    let redis;
    try {
      redis = await resolveRedis(dataDir);
    } catch (e) {
      throw infra(`no Redis: ${(e as Error).message}. Set REDIS_URL, or put redis-server on PATH.`);
    }
    say(redis.private ? `redis: private redis-server at ${redis.url}, append-only file in ${redis.private.dir}` : `redis: ${redis.url} (REDIS_URL)`);
    cfg = { redisUrl: redis.url, prefix: process.env.VSVA_PREFIX ?? 'vsva' };
    const ts = Date.now();
    const services = spawnServices(cfg, COMPONENTS, { logDir: join(STATE_DIR, 'logs') });
    cleanup = async () => {
      await stopServices(services);
      await redis.private?.stop();
    };
    try {
      await waitHealthy(cfg, COMPONENTS, 30_000, services);
    } catch (e) {
      await cleanup();
      throw infra(`the cluster did not start: ${(e as Error).message}`);
    }
    startMs = Date.now() - ts;
    say(`cluster: ${services.length} services up in ${startMs} ms (${services.map((s) => `${s.component}:${s.pid}`).join(' ')})`);
  }
  const runId = `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const log = RedisRunLog.fromUrl(cfg.redisUrl, { prefix: cfg.prefix });
  const client = new BullMqClient({ url: cfg.redisUrl, prefix: cfg.prefix, queue: queueName('orchestrator', 'ctl'), service: 'orchestrator', timeoutMs: o.timeout });
  const print = printTimeline(o);
  let last = 0;
  let tailing = true;
  const tail = (async () => {
    while (tailing) {
      const es = await log.read(runId, last + 1).catch(() => []);
      if (es.length) {
        print(es);
        last = es[es.length - 1]!.seq;
      } else await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    const req: RunRequest = { runId, scenario, file, policy, seed: o.seed, stepTimeoutMs: o.stepTimeout, reproduce: reproduceCommand(file, o, 'cluster') };
    const report = await firstValueFrom(client.send<RunReport>('run.start', req)).catch((e: Error) => {
      throw infra(`run ${runId} did not complete: ${e.message}`);
    });
    tailing = false;
    await tail;
    print(await log.read(runId, last + 1));
    report.stats.clusterStartMs = startMs;
    if (o.export) {
      const { exportRun } = await import('../../../../libs/event-log/src/index.js');
      await exportRun(log, runId, o.export, VERSION);
      say(`exported ${report.stats.entries} entries to ${o.export}`);
    }
    report.stats.wallMs = Date.now() - t0;
    return report;
  } finally {
    tailing = false;
    await client.close();
    await log.close();
    await cleanup();
  }
}

export async function runCommand(file: string, o: RunOptions): Promise<number> {
  const { scenario, policy } = loadRunInputs(file, o);
  let engine = o.engine;
  if (engine === 'auto') {
    const up = readClusterState();
    engine = process.env.REDIS_URL || process.env.VSVA_REDIS_URL || up ? 'cluster' : 'embedded';
    say(`engine auto: ${engine === 'cluster' ? 'Redis is configured, using the cluster' : 'no REDIS_URL and no running cluster, using the embedded engine (--engine cluster starts one)'}`);
  }
  const report = engine === 'cluster' ? await runClusterCommand(file, scenario, policy, o) : await runEmbeddedCommand(file, scenario, policy, o);
  say(formatReport(report));
  if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  return report.verdict === 'pass' ? 0 : 1;
}
