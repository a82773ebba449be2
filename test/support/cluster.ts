import { firstValueFrom } from 'rxjs';
import { startCluster, type ClusterConfig, type RunningCluster, type RunRequest, type StartedService } from '../../libs/cluster/src/index.js';
import type { RunReport } from '../../libs/runtime/src/index.js';
import { RedisRunLog } from '../../libs/event-log/src/index.js';
import { BullMqClient, queueName } from '../../libs/transport/src/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectRedis, mastersOf } from '../../libs/redis/src/index.js';
import type { Component } from '../../libs/contracts/src/index.js';
import { testPrefix } from './redis.js';

export interface TestCluster {
  cfg: ClusterConfig;
  /** the services of the moment: restartService replaces an entry */
  services: StartedService[];
  logDir: string;
  /** what the services' environment adds (kept for restartService) */
  env?: NodeJS.ProcessEnv;
  /** what startCluster started: the five, then each restarted service */
  started: RunningCluster[];
  stop(): Promise<void>;
}

/** Deletes every key under a prefix (BullMQ queues and run logs alike), on every master of a Redis Cluster. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const r = connectRedis(url);
  try {
    // a Cluster knows its masters once it has connected
    await r.ping();
    for (const node of mastersOf(r)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        // one key per call: a node holds many slots, and a DEL of several must stay in one
        await Promise.all(keys.map((k) => node.unlink(k)));
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
}

export interface TestClusterOptions {
  /** added to the services' environment, e.g. short VSVA_LOCK_MS / VSVA_STALLED_MS for crash tests */
  env?: NodeJS.ProcessEnv;
  /** processes per service (default 1) */
  replicas?: number;
}

/** A loaded machine (two cores, suites side by side) starts the services slowly. */
const HEALTH_TIMEOUT_MS = 45_000;

/** The five services as separate processes on the test Redis (startCluster), under a prefix of their own. */
export async function startTestCluster(redisUrl: string, name: string, opts: TestClusterOptions = {}): Promise<TestCluster> {
  const cfg = { redisUrl, prefix: testPrefix(name) };
  const logDir = mkdtempSync(join(tmpdir(), `vsva-${name}-logs-`));
  const five = await startCluster({ cfg, logDir, env: opts.env, replicas: opts.replicas, healthTimeoutMs: HEALTH_TIMEOUT_MS });
  const cluster: TestCluster = {
    cfg, services: [...five.services], logDir, env: opts.env, started: [five],
    async stop() {
      await Promise.all(cluster.started.map((c) => c.stop()));
      await deletePrefix(redisUrl, cfg.prefix);
    },
  };
  return cluster;
}

/** SIGKILL one service of a test cluster (no shutdown hooks, jobs left mid-flight) and wait for it to die. */
export async function killService(c: TestCluster, component: Component): Promise<StartedService> {
  const s = c.services.find((x) => x.component === component);
  if (!s) throw new Error(`no ${component} in the test cluster`);
  if (s.child.exitCode === null && s.child.signalCode === null) {
    const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
    s.child.kill('SIGKILL');
    await exited;
  }
  return s;
}

/** Starts a service again with the cluster's config and environment (its log appends to the same file). */
export async function restartService(c: TestCluster, component: Component): Promise<StartedService> {
  const one = await startCluster({ cfg: c.cfg, components: [component], logDir: c.logDir, env: c.env, healthTimeoutMs: HEALTH_TIMEOUT_MS });
  c.started.push(one);
  const fresh = one.services[0]!;
  c.services = c.services.map((s) => (s.component === component ? fresh : s));
  return fresh;
}

/** What a test drives a cluster with: the orchestrator's control queue and the run log, closed together. */
export interface ClusterDriver {
  log: RedisRunLog;
  /** asks the orchestrator to run a scenario to its end; resolves with the report */
  run(req: RunRequest): Promise<RunReport>;
  close(): Promise<void>;
}

export function driveCluster(c: TestCluster, timeoutMs = 60_000): ClusterDriver {
  const client = new BullMqClient({ url: c.cfg.redisUrl, prefix: c.cfg.prefix, queue: queueName('orchestrator', 'ctl'), service: 'orchestrator', timeoutMs });
  const log = RedisRunLog.fromUrl(c.cfg.redisUrl, { prefix: c.cfg.prefix });
  return {
    log,
    run: (req) => firstValueFrom(client.send<RunReport>('run.start', req)),
    async close() {
      await client.close();
      await log.close();
    },
  };
}
