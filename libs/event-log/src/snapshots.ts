import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, assertPrefix, assertRunId } from './keys.js';

/**
 * A component's folded state in a run, so that a restarted service need not fold the whole log.
 * It is derived data: the log stays the truth, and a snapshot that is missing, unreadable or does not
 * match the log is simply not used (the caller folds from the start).
 */
export interface Snapshot<R = unknown> {
  component: string;
  /** seq of the last input of `component` folded into `runtime` */
  seq: number;
  /** event id of that input entry: checked against the log before the snapshot is trusted */
  eventId: string;
  /** inputs of `component` folded in all */
  inputs: number;
  /** the entry schema version it was folded under: another version folds from the start */
  schemaVersion: number;
  runtime: R;
}

export interface SnapshotStore {
  load<R = unknown>(runId: string, component: string): Promise<Snapshot<R> | undefined>;
  /** replaces the component's previous snapshot of the run */
  save(runId: string, snap: Snapshot): Promise<void>;
}

/** Beside the run's other keys, in its hash-tag slot: `${prefix}:{${runId}}:snap:${component}`. */
export function snapshotKey(runId: string, component: string, prefix: string = DEFAULT_PREFIX): string {
  assertRunId(runId);
  return `${prefix}:{${runId}}:snap:${component}`;
}

/** One JSON string per (run, component) in Redis. */
export class RedisSnapshotStore implements SnapshotStore {
  constructor(private readonly redis: Redis, private readonly prefix: string = DEFAULT_PREFIX) {
    assertPrefix(prefix);
  }

  async load<R = unknown>(runId: string, component: string): Promise<Snapshot<R> | undefined> {
    const json = await this.redis.get(snapshotKey(runId, component, this.prefix));
    if (json === null) return undefined;
    try {
      return JSON.parse(json) as Snapshot<R>;
    } catch {
      return undefined;
    }
  }

  async save(runId: string, snap: Snapshot): Promise<void> {
    await this.redis.set(snapshotKey(runId, snap.component, this.prefix), JSON.stringify(snap));
  }
}
