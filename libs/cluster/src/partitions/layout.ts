import type { Redis } from 'ioredis';
import type { Component } from '../../../contracts/src/index.js';
import { partitionOf, queueName } from '../../../transport/src/index.js';

/**
 * A namespace's queue layout: how many partitions each data queue has. Every process of the namespace
 * must route a run to the same partition, so the first service to start fixes it and the others
 * read it (a producer that guessed differently would put a run's inputs where nobody consumes them).
 */
export interface NamespaceLayout {
  partitions: number;
}

export const layoutKey = (prefix: string) => `${prefix}:layout`;

export class LayoutMismatchError extends Error {
  constructor(readonly prefix: string, readonly stored: NamespaceLayout, readonly wanted: number) {
    super(`namespace '${prefix}' is laid out in ${stored.partitions} partition(s) per service (key ${layoutKey(prefix)}), but this process is configured with VSVA_PARTITIONS=${wanted}: set VSVA_PARTITIONS=${stored.partitions}, use another VSVA_PREFIX, or delete the key once nothing runs in the namespace`);
    this.name = 'LayoutMismatchError';
  }
}

function parseLayout(raw: string | null): NamespaceLayout | undefined {
  if (!raw) return undefined;
  try {
    const l = JSON.parse(raw) as NamespaceLayout;
    return Number.isInteger(l?.partitions) && l.partitions >= 1 ? { partitions: l.partitions } : undefined;
  } catch {
    return undefined;
  }
}

/** The layout the namespace has, if any service ever started in it. */
export async function readLayout(redis: Redis, prefix: string): Promise<NamespaceLayout | undefined> {
  return parseLayout(await redis.get(layoutKey(prefix)));
}

/** Fixes the layout if none is (SET NX), else checks this process's against it; throws LayoutMismatchError. */
export async function agreeLayout(redis: Redis, prefix: string, partitions: number): Promise<NamespaceLayout> {
  await redis.set(layoutKey(prefix), JSON.stringify({ partitions }), 'NX');
  const stored = await readLayout(redis, prefix);
  if (!stored) {
    // unreadable (written by hand): this process's layout replaces it
    await redis.set(layoutKey(prefix), JSON.stringify({ partitions }));
    return { partitions };
  }
  if (stored.partitions !== partitions) throw new LayoutMismatchError(prefix, stored, partitions);
  return stored;
}

/** The namespace's partition count: its layout's, or, before any service fixed one, the configured. */
export async function layoutPartitions(redis: Redis, prefix: string, configured: number): Promise<number> {
  return (await readLayout(redis, prefix))?.partitions ?? configured;
}

/** The data queue that holds a run's inputs for a component, in the namespace's layout. */
export async function runQueue(redis: Redis, prefix: string, component: Component, runId: string, configured: number): Promise<string> {
  return queueName(component, 'data', partitionOf(runId, await layoutPartitions(redis, prefix, configured)));
}
