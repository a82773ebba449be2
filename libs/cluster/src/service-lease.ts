import type { LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { COMPONENTS, type Component } from '../../contracts/src/index.js';
import { redactUrl } from '../../redis/src/index.js';
import type { ClusterConfig } from './config.js';
import { Lease, LeaseHeldError, leaseKey, readLeases } from './lease.js';

/**
 * Since when this process has seen the infrastructure whole: its heartbeat reaching Redis and (in the
 * orchestrator, which times steps) every other service's lease held. 0 until something broke.
 */
let quietSince = 0;
let disturbed = false;
export const infraQuietSince = (): number => (disturbed ? Date.now() : quietSince);
function disturbance(now: boolean): void {
  if (now) disturbed = true;
  else if (disturbed) {
    disturbed = false;
    quietSince = Date.now();
  }
}

/** A service that finds its queue consumed by a live process exits with this (EX_TEMPFAIL): a supervisor waits, not retries at once. */
export const EXIT_LEASE_HELD = 75;

/**
 * Takes the component's lease in the namespace before the service consumes anything, and keeps it.
 * A live holder elsewhere: exit EXIT_LEASE_HELD, naming it. Lost later (this process was paused past
 * the lease and another took over): exit at once, since two consumers of one queue would each fold
 * half of the component's inputs.
 */
export async function holdServiceLease(component: Component, cfg: ClusterConfig, ttlMs: number, logger: LoggerService, stats: () => Record<string, number>): Promise<Lease> {
  // its own connection, so that a busy log connection never delays a heartbeat
  const redis = new Redis(cfg.redisUrl, { connectTimeout: 3000, commandTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(100 * n, 1000) });
  redis.on('error', () => {});
  let since: number | null = null;
  const lease = new Lease(redis, leaseKey(cfg.prefix, component), {
    ttlMs,
    stats,
    onLost: (by) => {
      logger.error(`lease on ${component} in namespace '${cfg.prefix}' taken by ${by ? `pid ${by.pid} on ${by.host}` : 'another process'} while this one was not renewing it: stopping at once`);
      process.exit(EXIT_LEASE_HELD);
    },
    onTrouble: (s, err) => {
      disturbance(s !== null);
      if (s !== null) logger.warn(`heartbeat failing (Redis ${redactUrl(cfg.redisUrl)}: ${err?.message ?? '?'})`);
      else logger.warn(`heartbeat back after ${((Date.now() - (since ?? Date.now())) / 1000).toFixed(1)} s`);
      since = s;
    },
  });
  try {
    await lease.acquire(`${component} (namespace '${cfg.prefix}', Redis ${redactUrl(cfg.redisUrl)})`);
  } catch (e) {
    if (e instanceof LeaseHeldError) {
      logger.error(e.message);
      process.exit(EXIT_LEASE_HELD);
    }
    throw e;
  }
  if (component === 'orchestrator') watchPeers(redis, cfg, lease.ttl);
  const release = lease.release.bind(lease);
  lease.release = async () => {
    await release();
    await redis.quit().catch(() => redis.disconnect());
  };
  return lease;
}

/** The orchestrator times steps: a peer without a heartbeat is an outage too, and holds the step timers. */
function watchPeers(redis: Redis, cfg: ClusterConfig, ttlMs: number): void {
  const others = COMPONENTS.filter((c) => c !== 'orchestrator');
  const t = setInterval(() => {
    void readLeases(redis, cfg.prefix, others).then(
      (l) => disturbance(others.some((c) => !l[c])),
      () => disturbance(true),
    );
  }, Math.max(100, Math.floor(ttlMs / 3)));
  t.unref();
}

/**
 * A service started with VSVA_EXIT_WITH_PARENT=1 (`enabled`) stops when the process that started it
 * is gone (a CLI killed with SIGKILL, a supervisor that died): nothing is orphaned.
 */
export function exitWithParent(stop: () => Promise<void>, enabled: boolean, everyMs = 500): void {
  if (!enabled) return;
  const parent = process.ppid;
  const t = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(t);
    const hard = setTimeout(() => process.exit(1), 5000);
    hard.unref();
    void stop().finally(() => process.exit(0));
  }, everyMs);
  t.unref();
}
