import type { LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Component } from '../../contracts/src/index.js';
import { redactUrl } from '../../redis/src/redact.js';
import type { ClusterConfig } from './config.js';
import { DEFAULT_LEASE_MS, Lease, LeaseHeldError, leaseKey } from './lease.js';

/** A service that finds its queue consumed by a live process exits with this (EX_TEMPFAIL): a supervisor waits, not retries at once. */
export const EXIT_LEASE_HELD = 75;

function leaseMsFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.VSVA_LEASE_MS;
  if (!raw) return DEFAULT_LEASE_MS;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 300) throw new Error(`VSVA_LEASE_MS must be an integer >= 300, got '${raw}'`);
  return n;
}

/**
 * Takes the component's lease in the namespace before the service consumes anything, and keeps it.
 * A live holder elsewhere: exit EXIT_LEASE_HELD, naming it. Lost later (this process was paused past
 * the lease and another took over): exit at once, since two consumers of one queue would each fold
 * half of the component's inputs.
 */
export async function holdServiceLease(component: Component, cfg: ClusterConfig, logger: LoggerService, stats: () => Record<string, number>): Promise<Lease> {
  // its own connection, so that a busy log connection never delays a heartbeat
  const redis = new Redis(cfg.redisUrl, { connectTimeout: 3000, commandTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(100 * n, 1000) });
  redis.on('error', () => {});
  let since: number | null = null;
  const lease = new Lease(redis, leaseKey(cfg.prefix, component), {
    ttlMs: leaseMsFromEnv(process.env),
    stats,
    onLost: (by) => {
      logger.error(`lease on ${component} in namespace '${cfg.prefix}' taken by ${by ? `pid ${by.pid} on ${by.host}` : 'another process'} while this one was not renewing it: stopping at once`);
      process.exit(EXIT_LEASE_HELD);
    },
    onTrouble: (s, err) => {
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
  const release = lease.release.bind(lease);
  lease.release = async () => {
    await release();
    await redis.quit().catch(() => redis.disconnect());
  };
  return lease;
}

/**
 * A service started with VSVA_EXIT_WITH_PARENT=1 stops when the process that started it is gone
 * (a CLI killed with SIGKILL, a supervisor that died): nothing is orphaned.
 */
export function exitWithParent(stop: () => Promise<void>, env: NodeJS.ProcessEnv = process.env, everyMs = 500): void {
  if (env.VSVA_EXIT_WITH_PARENT !== '1') return;
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
