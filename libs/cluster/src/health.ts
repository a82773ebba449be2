import { firstValueFrom } from 'rxjs';
import type { Redis } from 'ioredis';
import { COMPONENTS, type Component } from '../../contracts/src/index.js';
import { boundedRedis } from '../../redis/src/index.js';
import { BullMqClient, queueName } from '../../transport/src/index.js';
import type { ClusterConfig } from './config.js';
import { holderIsDeadHere, readLeases, type LeaseHolder } from './lease.js';
import { EXIT_LEASE_HELD } from './service-lease.js';
import type { StartedService } from './service-process.js';

/** A service as its heartbeat shows it: its lease's holder. */
export interface Health extends LeaseHolder {
  component: Component;
  uptimeMs: number;
  /** since the last heartbeat */
  ageMs: number;
  stats: Record<string, number>;
}

function healthOf(c: Component, h: LeaseHolder | null, now = Date.now()): Health | null {
  // a lease outlives a SIGKILLed holder by up to its ttl; on this machine its death is plain to see
  if (h && holderIsDeadHere(h)) return null;
  return h ? { ...h, component: c, uptimeMs: now - h.startedAt, ageMs: now - h.beatAt, stats: h.stats ?? {} } : null;
}

/**
 * Each service's health from its lease (one MGET, writes nothing): held means alive, since a holder
 * that stops renewing loses it within the lease's ttl. `redis` reuses a connection; else a bounded one.
 */
export async function clusterHealth(cfg: ClusterConfig, redis?: Redis): Promise<Record<Component, Health | null>> {
  const r = redis ?? boundedRedis(cfg.redisUrl);
  try {
    const leases = await readLeases(r, cfg.prefix, COMPONENTS);
    const now = Date.now();
    return Object.fromEntries(COMPONENTS.map((c) => [c, healthOf(c, leases[c], now)])) as Record<Component, Health | null>;
  } finally {
    if (!redis) r.disconnect();
  }
}

/** One service's counters, asked on its control queue (a round trip: for tests and the bench, not for liveness). */
export async function serviceStats(cfg: ClusterConfig, c: Component, timeoutMs = 5000): Promise<{ pid: number; stats: Record<string, number> } | null> {
  const client = new BullMqClient({ url: cfg.redisUrl, prefix: cfg.prefix, queue: queueName(c, 'ctl'), service: c, timeoutMs });
  try {
    return await firstValueFrom(client.send<{ pid: number; stats: Record<string, number> }>('health', {}));
  } catch {
    return null;
  } finally {
    await client.close();
  }
}

/**
 * Waits until every named service holds its lease, or throws naming the ones that did not. A service
 * of `started` that exits first is reported with its log; one that exited because another live process
 * holds its lease counts as up (that one serves the queue).
 */
export async function waitHealthy(cfg: ClusterConfig, components: readonly Component[], timeoutMs = 20_000, started: readonly StartedService[] = []): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const redis = boundedRedis(cfg.redisUrl);
  try {
    let missing = [...components];
    for (;;) {
      const hs = await clusterHealth(cfg, redis).catch(() => null);
      if (hs) missing = missing.filter((c) => !hs[c]);
      if (!missing.length) return;
      const dead = started.filter((s) => s.child.exitCode !== null && s.child.exitCode !== EXIT_LEASE_HELD && missing.includes(s.component));
      if (dead.length) throw new Error(`service(s) exited at start: ${dead.map((d) => `${d.component} (exit ${d.child.exitCode}, see ${d.logFile})`).join(', ')}`);
      if (Date.now() > deadline) throw new Error(`service(s) not up after ${timeoutMs} ms (no heartbeat): ${missing.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    redis.disconnect();
  }
}
