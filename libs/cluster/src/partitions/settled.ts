import type { Redis } from 'ioredis';
import type { Component } from '../../../contracts/src/index.js';
import { boundedRedis } from '../../../redis/src/index.js';
import type { ClusterConfig } from '../config.js';
import { assignPartitions } from './assignment.js';
import { layoutPartitions } from './layout.js';
import { readPartitionOwners, readReplicas } from './replicas.js';

/**
 * The services whose partitions are not yet where they will stay: fewer than `replicas` live replicas,
 * or a partition unowned or owned by another slot than the assignment gives it (a handover under way).
 * Reads only.
 */
export async function unsettled(redis: Redis, prefix: string, components: readonly Component[], replicas: number, partitions: number): Promise<Component[]> {
  const n = await layoutPartitions(redis, prefix, partitions);
  const live = await readReplicas(redis, prefix, components);
  const out: Component[] = [];
  for (const c of components) {
    const share = assignPartitions(live[c].map((r) => r.slot), n);
    const owners = await readPartitionOwners(redis, prefix, c, n);
    const ok = live[c].length >= replicas && owners.every((o, p) => o?.slot !== undefined && share.get(o.slot)?.includes(p));
    if (!ok) out.push(c);
  }
  return out;
}

/**
 * Until `unsettled` is empty, or throws naming the services after `timeoutMs`; on a bounded connection
 * of its own. `partitions`: the configured count, for a namespace no service has laid out yet.
 */
export async function waitSettled(cfg: ClusterConfig, components: readonly Component[], replicas: number, partitions: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const redis = boundedRedis(cfg.redisUrl);
  try {
    for (;;) {
      const left = await unsettled(redis, cfg.prefix, components, replicas, partitions).catch(() => [...components]);
      if (!left.length) return;
      if (Date.now() > deadline) throw new Error(`not ${replicas} replica(s) each owning its share of the partitions after ${timeoutMs} ms: ${left.join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    redis.disconnect();
  }
}
