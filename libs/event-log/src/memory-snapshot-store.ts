import { assertRunId } from './keys.js';
import type { Snapshot, SnapshotStore } from './snapshots.js';

/**
 * Snapshots in memory (the embedded engine). A load gives what the Redis store would give back, the
 * snapshot's JSON round trip, never an object the host that saved it still holds. The JSON is made at
 * the load, not at the save: a component's states are never mutated once made (state-hash.ts relies
 * on it too), so it is the same text, and a run that never rebuilds a component never pays for it.
 */
export class MemorySnapshotStore implements SnapshotStore {
  private readonly snaps = new Map<string, Snapshot>();

  async load<R = unknown>(runId: string, component: string): Promise<Snapshot<R> | undefined> {
    const snap = this.snaps.get(keyOf(runId, component));
    return snap === undefined ? undefined : (JSON.parse(JSON.stringify(snap)) as Snapshot<R>);
  }

  async save(runId: string, snap: Snapshot): Promise<void> {
    this.snaps.set(keyOf(runId, snap.component), snap);
  }
}

function keyOf(runId: string, component: string): string {
  assertRunId(runId);
  return `${runId}|${component}`;
}
