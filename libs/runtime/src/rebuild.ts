import { SCHEMA_VERSION, type Component, type Envelope } from '../../contracts/src/index.js';
import { initialRuntime, processInput, type ComponentRuntime } from './process-input.js';
import { DEFAULT_PAGE_SIZE, type RunLog, type Snapshot, type SnapshotStore } from '../../event-log/src/index.js';

/** A component's state in a run as folded from the log, with where the fold stopped. */
export interface Rebuilt {
  runtime: ComponentRuntime;
  /** seq and event id of the last input folded (0 / undefined: none) */
  lastSeq: number;
  lastEventId?: string;
  /** inputs of the component in the run, snapshot included */
  inputs: number;
  /** inputs folded from the log now (after the snapshot, if one was used) */
  folded: number;
  /** seq of the snapshot the fold started from, if one was used */
  fromSnapshot?: number;
}

/**
 * Folds the component's recorded inputs in recorded order (DESIGN.md §2.4). With a snapshot store, starts
 * from the component's snapshot when the log confirms it (the entry at its seq is the input it names),
 * and reads only the entries after it.
 */
export async function rebuildRuntime(component: Component, log: RunLog, runId: string, snapshots?: SnapshotStore, pageSize = DEFAULT_PAGE_SIZE): Promise<Rebuilt> {
  const snap = snapshots ? await usableSnapshot(component, log, runId, snapshots) : undefined;
  const out: Rebuilt = snap
    ? { runtime: snap.runtime, lastSeq: snap.seq, lastEventId: snap.eventId, inputs: snap.inputs, folded: 0, fromSnapshot: snap.seq }
    : { runtime: initialRuntime(component), lastSeq: 0, inputs: 0, folded: 0 };
  // sequences are contiguous from 1: a short page is the end of the log
  for (let from = out.lastSeq + 1; ; from += pageSize) {
    const page = await log.read(runId, from, from + pageSize - 1);
    for (const e of page) {
      if (e.kind !== 'input' || e.component !== component) continue;
      out.runtime = processInput(component, out.runtime, e.payload as Envelope, { hash: false }).next;
      out.lastSeq = e.seq;
      out.lastEventId = e.eventId;
      out.inputs++;
      out.folded++;
    }
    if (page.length < pageSize) return out;
  }
}

async function usableSnapshot(component: Component, log: RunLog, runId: string, store: SnapshotStore): Promise<Snapshot<ComponentRuntime> | undefined> {
  const snap = await store.load<ComponentRuntime>(runId, component).catch(() => undefined);
  if (!snap || snap.component !== component || snap.schemaVersion !== SCHEMA_VERSION || !Number.isSafeInteger(snap.seq) || snap.seq < 1) return undefined;
  // a snapshot left over from a deleted run of the same id, or ahead of the log, is not this run's state
  const [at] = await log.read(runId, snap.seq, snap.seq);
  if (!at || at.kind !== 'input' || at.component !== component || at.eventId !== snap.eventId) return undefined;
  return snap;
}

/** The snapshot of a component's runtime after the input at `lastSeq`. */
export function snapshotOf(component: Component, r: Pick<Rebuilt, 'runtime' | 'lastSeq' | 'lastEventId' | 'inputs'>): Snapshot<ComponentRuntime> {
  return { component, seq: r.lastSeq, eventId: r.lastEventId ?? '', inputs: r.inputs, schemaVersion: SCHEMA_VERSION, runtime: r.runtime };
}
