import type { Redis } from 'ioredis';
import type { Component } from '../../../contracts/src/index.js';
import { holderIsDeadHere, parseHolder, partitionLeaseKey, replicaLeaseKey, type LeaseHolder } from '../lease.js';

/** How many processes of one service may serve a namespace at once (slots of their leases). */
export const MAX_REPLICAS = 16;

/** A live service process: the holder of one replica slot of its component. */
export interface Replica extends LeaseHolder {
  slot: number;
}

const alive = (h: LeaseHolder | null): h is LeaseHolder => !!h && !holderIsDeadHere(h);

/**
 * Every live replica of each named service, by slot (one MGET, writes nothing). A lease that outlived
 * a SIGKILLed holder on this machine does not count (its death is plain to see here), unless `withDead`.
 */
export async function readReplicas<C extends Component>(redis: Redis, prefix: string, components: readonly C[], withDead = false): Promise<Record<C, Replica[]>> {
  const keys = components.flatMap((c) => Array.from({ length: MAX_REPLICAS }, (_, s) => replicaLeaseKey(prefix, c, s)));
  const raws = keys.length ? await redis.mget(...keys) : [];
  return Object.fromEntries(components.map((c, i) => {
    const live: Replica[] = [];
    for (let s = 0; s < MAX_REPLICAS; s++) {
      const h = parseHolder(raws[i * MAX_REPLICAS + s] ?? null);
      if (withDead ? h : alive(h)) live.push({ ...h!, slot: s });
    }
    return [c, live];
  })) as Record<C, Replica[]>;
}

/** Who consumes each partition of a service now (null: nobody), by partition number. */
export async function readPartitionOwners(redis: Redis, prefix: string, component: Component, partitions: number): Promise<Array<(LeaseHolder & { slot?: number }) | null>> {
  const raws = await redis.mget(...Array.from({ length: partitions }, (_, p) => partitionLeaseKey(prefix, component, p)));
  return raws.map((raw) => {
    const h = parseHolder(raw);
    if (!alive(h)) return null;
    const slot = h.stats?.slot;
    return typeof slot === 'number' ? { ...h, slot } : h;
  });
}
