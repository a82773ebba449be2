import type { LoggerService } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { COMPONENTS, type Component } from '../../contracts/src/index.js';
import { connectRedis, redactUrl } from '../../redis/src/index.js';
import type { ClusterConfig } from './config.js';
import { Lease, replicaLeaseKey, type LeaseHolder } from './lease.js';
import { MAX_REPLICAS, readReplicas } from './partitions/replicas.js';

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

/** A service that finds every replica slot held by a live process exits with this (EX_TEMPFAIL): a supervisor waits, not retries at once. */
export const EXIT_LEASE_HELD = 75;

/** A service process's lease on its replica slot: its heartbeat, and its place in the partition assignment. */
export interface ReplicaLease {
  lease: Lease;
  slot: number;
}

/**
 * Takes the lowest free replica slot of the component in the namespace before the service consumes
 * anything, and keeps it renewed (its heartbeat). Every slot held by a live process: exit
 * EXIT_LEASE_HELD, naming them. Lost later (this process was paused past the lease and another took
 * the slot): exit at once, since its partitions may be another's by now.
 */
export async function holdReplicaSlot(component: Component, cfg: ClusterConfig, ttlMs: number, logger: LoggerService, stats: () => Record<string, number>): Promise<ReplicaLease> {
  // its own connection, so that a busy log connection never delays a heartbeat
  const redis = connectRedis(cfg.redisUrl, { connectTimeout: 3000, commandTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(100 * n, 1000) });
  redis.on('error', () => {});
  let since: number | null = null;
  const options = (slot: number) => ({
    ttlMs,
    stats: () => ({ ...stats(), slot }),
    onLost: (by: LeaseHolder | null) => {
      logger.error(`replica slot ${slot} of ${component} in namespace '${cfg.prefix}' taken by ${by ? `pid ${by.pid} on ${by.host}` : 'another process'} while this one was not renewing it: stopping at once`);
      process.exit(EXIT_LEASE_HELD);
    },
    onTrouble: (s: number | null, err?: Error) => {
      disturbance(s !== null);
      if (s !== null) logger.warn(`heartbeat failing (Redis ${redactUrl(cfg.redisUrl)}: ${err?.message ?? '?'})`);
      else logger.warn(`heartbeat back after ${((Date.now() - (since ?? Date.now())) / 1000).toFixed(1)} s`);
      since = s;
    },
  });
  let held: ReplicaLease | undefined;
  const holders: LeaseHolder[] = [];
  for (let slot = 0; slot < MAX_REPLICAS && !held; slot++) {
    const lease = new Lease(redis, replicaLeaseKey(cfg.prefix, component, slot), options(slot));
    const holder = await lease.tryAcquire();
    if (holder) holders.push(holder);
    else held = { lease, slot };
  }
  if (!held) {
    logger.error(`all ${MAX_REPLICAS} replica slots of ${component} in namespace '${cfg.prefix}' (Redis ${redactUrl(cfg.redisUrl)}) are held by live processes (pids ${holders.map((h) => `${h.pid}@${h.host}`).join(', ')}): stop one, or use another VSVA_PREFIX`);
    process.exit(EXIT_LEASE_HELD);
  }
  if (component === 'orchestrator') watchPeers(redis, cfg, held.lease.ttl);
  const release = held.lease.release.bind(held.lease);
  held.lease.release = async () => {
    await release();
    await redis.quit().catch(() => redis.disconnect());
  };
  return held;
}

/** The orchestrator times steps: a service without a live replica is an outage too, and holds the step timers. */
function watchPeers(redis: Redis, cfg: ClusterConfig, ttlMs: number): void {
  const others = COMPONENTS.filter((c) => c !== 'orchestrator');
  const t = setInterval(() => {
    void readReplicas(redis, cfg.prefix, others).then(
      (r) => disturbance(others.some((c) => r[c].length === 0)),
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
