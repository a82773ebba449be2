import { firstValueFrom } from 'rxjs';
import type { Redis } from 'ioredis';
import { COMPONENTS, type Component } from '../../contracts/src/index.js';
import { boundedRedis } from '../../redis/src/index.js';
import { BullMqClient, queueName } from '../../transport/src/index.js';
import type { ClusterConfig } from './config.js';
import type { LeaseHolder } from './lease.js';
import { readReplicas, type Replica } from './partitions/replicas.js';
import { EXIT_LEASE_HELD } from './service-lease.js';
import type { StartedService } from './service-process.js';

/** A service process as its heartbeat shows it: the holder of a replica slot. */
export interface ReplicaHealth extends LeaseHolder {
  component: Component;
  slot: number;
  uptimeMs: number;
  /** since the last heartbeat */
  ageMs: number;
  stats: Record<string, number>;
}

/** A service as its heartbeats show it: its lowest-slot replica's, and every live replica. */
export interface Health extends ReplicaHealth {
  replicas: ReplicaHealth[];
}

function replicaHealth(c: Component, h: Replica, now: number): ReplicaHealth {
  return { ...h, component: c, uptimeMs: now - h.startedAt, ageMs: now - h.beatAt, stats: h.stats ?? {} };
}

/**
 * Each service's health from its replicas' leases (one MGET, writes nothing): a slot held means a live
 * process, since a holder that stops renewing loses it within the lease's ttl; a service is up while
 * one replica is. `redis` reuses a connection; else a bounded one.
 */
export async function clusterHealth(cfg: ClusterConfig, redis?: Redis): Promise<Record<Component, Health | null>> {
  const r = redis ?? boundedRedis(cfg.redisUrl);
  try {
    const live = await readReplicas(r, cfg.prefix, COMPONENTS);
    const now = Date.now();
    return Object.fromEntries(COMPONENTS.map((c) => {
      const replicas = live[c].map((h) => replicaHealth(c, h, now));
      return [c, replicas.length ? { ...replicas[0]!, replicas } : null];
    })) as Record<Component, Health | null>;
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
 * Waits until every named service has a live replica and every process of `started` holds its replica
 * slot, or throws naming the ones that did not. A process of `started` that exits first is reported
 * with its log; one that exited because every slot is held by live processes counts as up (they serve).
 */
export async function waitHealthy(cfg: ClusterConfig, components: readonly Component[], timeoutMs = 20_000, started: readonly StartedService[] = []): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const redis = boundedRedis(cfg.redisUrl);
  try {
    let missing: string[] = [...components];
    for (;;) {
      const hs = await clusterHealth(cfg, redis).catch(() => null);
      if (hs) {
        const pids = new Set(COMPONENTS.flatMap((c) => hs[c]?.replicas.map((r) => r.pid) ?? []));
        const waiting = started.filter((s) => s.child.exitCode === null && !pids.has(s.pid)).map((s) => `${s.component} (pid ${s.pid})`);
        missing = [...components.filter((c) => !hs[c]), ...waiting];
      }
      if (!missing.length) return;
      const dead = started.filter((s) => s.child.exitCode !== null && s.child.exitCode !== EXIT_LEASE_HELD);
      if (dead.length) throw new Error(`service(s) exited at start: ${dead.map((d) => `${d.component} (exit ${d.child.exitCode}, see ${d.logFile})`).join(', ')}`);
      if (Date.now() > deadline) throw new Error(`service(s) not up after ${timeoutMs} ms (no heartbeat): ${missing.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    redis.disconnect();
  }
}
