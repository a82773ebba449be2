import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { firstValueFrom } from 'rxjs';
import { COMPONENTS, type LogEntry } from '../../../libs/contracts/src/index.js';
import type { ClusterConfig, RunRequest } from '../../../libs/cluster/src/index.js';
import type { RunReport } from '../../../libs/engine/src/report.js';
import type { RedisRunLog } from '../../../libs/event-log/src/index.js';
import { envRedis, knownClusters, STATE_DIR } from './cluster-state.js';
import { infra } from './errors.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

/** A cluster to run scenarios on: attached to running services, or started for this command. */
export interface ClusterSession {
  cfg: ClusterConfig;
  log: RedisRunLog;
  /** time the services took to answer health, when this command started them */
  startMs: number;
  newRunId(): string;
  /** runs one scenario; `onEntries` sees the log as it grows (the timeline) */
  run(req: RunRequest, onEntries?: (es: LogEntry[]) => void): Promise<RunReport>;
  close(): Promise<void>;
}

/**
 * Uses healthy services: the cluster `vsva-sim up` started, or one on REDIS_URL (docker compose).
 * Otherwise starts Redis (REDIS_URL, else a private redis-server with its append-only file) and the
 * five services, and `close()` stops what it started.
 */
export async function openClusterSession(timeoutMs: number): Promise<ClusterSession> {
  // the cluster stack (Nest, BullMQ) loads only when a cluster run needs it
  const { clusterHealth, resolveRedis, spawnServices, stopServices, waitHealthy } = await import('../../../libs/cluster/src/index.js');
  const { RedisRunLog } = await import('../../../libs/event-log/src/index.js');
  const { BullMqClient, queueName } = await import('../../../libs/transport/src/index.js');
  let cfg: ClusterConfig | undefined;
  let stop = async () => {};
  let startMs = 0;
  for (const c of knownClusters()) {
    const h = await clusterHealth(c).catch(() => null);
    if (h && COMPONENTS.every((k) => h[k])) {
      cfg = c;
      say(`cluster: using the running services (redis ${c.redisUrl}, prefix ${c.prefix})`);
      break;
    }
  }
  if (!cfg) {
    let redis;
    try {
      redis = await resolveRedis(join(STATE_DIR, `redis-${process.pid}`));
    } catch (e) {
      throw infra(`no Redis: ${(e as Error).message}. Set REDIS_URL, or put redis-server on PATH.`);
    }
    say(redis.private ? `redis: private redis-server at ${redis.url}, append-only file in ${redis.private.dir}` : `redis: ${redis.url} (REDIS_URL)`);
    cfg = { redisUrl: redis.url, prefix: envRedis().prefix };
    const ts = Date.now();
    const services = spawnServices(cfg, COMPONENTS, { logDir: join(STATE_DIR, 'logs') });
    stop = async () => {
      await stopServices(services);
      await redis.private?.stop();
    };
    try {
      await waitHealthy(cfg, COMPONENTS, 30_000, services);
    } catch (e) {
      await stop();
      throw infra(`the cluster did not start: ${(e as Error).message}`);
    }
    startMs = Date.now() - ts;
    say(`cluster: ${services.length} services up in ${startMs} ms (${services.map((s) => `${s.component}:${s.pid}`).join(' ')})`);
  }
  const log = RedisRunLog.fromUrl(cfg.redisUrl, { prefix: cfg.prefix });
  const client = new BullMqClient({ url: cfg.redisUrl, prefix: cfg.prefix, queue: queueName('orchestrator', 'ctl'), service: 'orchestrator', timeoutMs });
  return {
    cfg, log, startMs,
    newRunId: () => `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    async run(req, onEntries) {
      let last = 0;
      let tailing = !!onEntries;
      const tail = (async () => {
        while (tailing) {
          const es = await log.read(req.runId, last + 1).catch(() => []);
          if (es.length) {
            onEntries!(es);
            last = es[es.length - 1]!.seq;
          } else await new Promise((r) => setTimeout(r, 25));
        }
      })();
      try {
        return await firstValueFrom(client.send<RunReport>('run.start', req)).catch((e: Error) => {
          throw infra(`run ${req.runId} did not complete: ${e.message}`);
        });
      } finally {
        tailing = false;
        await tail;
        if (onEntries) {
          const rest = await log.read(req.runId, last + 1);
          if (rest.length) onEntries(rest);
        }
      }
    },
    async close() {
      await client.close();
      await log.close();
      await stop();
    },
  };
}
