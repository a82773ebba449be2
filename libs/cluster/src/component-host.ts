import { EventEmitter } from 'node:events';
import { EnvelopeSchema, type Component, type Envelope, type LogEntry } from '../../contracts/src/index.js';
import { commandsOf, processInput } from '../../engine/src/runtime.js';
import type { RunLog, SnapshotStore } from '../../event-log/src/index.js';
import type { Outbox } from './outbox.js';
import { rebuildRuntime, snapshotOf, type Rebuilt } from './rebuild.js';
import { DEFAULT_RECOVERY } from './recovery-config.js';

export interface ComponentHostOptions {
  /** where snapshots of this component's state go; none: every rebuild folds the whole log */
  snapshots?: SnapshotStore;
  /**
   * a snapshot once the run's log has grown by this many entries since the component's last one
   * (default: recovery-config.ts); 0 never
   */
  snapshotEvery?: number;
}

/** A run's state in memory, with where it stands in the log and where its last snapshot is. */
interface RunMemory extends Rebuilt {
  snapSeq: number;
}

/**
 * The thin shell around one component's decider (DESIGN.md §2.1-2.3): validate the delivered
 * envelope, decide, append the input and its outputs atomically with a marker, then send the
 * commands. A redelivered input finds its marker and re-sends what was recorded, deciding nothing.
 * A run it has no memory of (a restart) is rebuilt from the log, from a snapshot when there is one.
 */
export class ComponentHost extends EventEmitter {
  private readonly runs = new Map<string, RunMemory>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly snapshotEvery: number;
  stats = { inputs: 0, duplicates: 0, deadLetters: 0, rebuilds: 0, snapshotsLoaded: 0, snapshotsWritten: 0 };

  constructor(readonly component: Component, private readonly log: RunLog, private readonly outbox: Outbox, private readonly opts: ComponentHostOptions = {}) {
    super();
    this.snapshotEvery = opts.snapshotEvery ?? DEFAULT_RECOVERY.snapshotEvery;
  }

  /** One input at a time, in arrival order: the log records that order. */
  deliver(raw: unknown): Promise<void> {
    const next = this.chain.then(() => this.handle(raw));
    this.chain = next.catch(() => {});
    return next;
  }

  private async handle(raw: unknown): Promise<void> {
    const parsed = EnvelopeSchema.safeParse(raw);
    const runId = typeof (raw as { runId?: unknown })?.runId === 'string' ? (raw as { runId: string }).runId : '_unknown';
    if (!parsed.success) {
      this.stats.deadLetters++;
      await this.log.deadLetter(runId, `${this.component}: malformed envelope: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, raw);
      return;
    }
    const input = parsed.data as Envelope;
    if (input.to !== this.component) {
      this.stats.deadLetters++;
      await this.log.deadLetter(runId, `${this.component}: envelope addressed to ${input.to}`, raw);
      return;
    }
    const mem = await this.memoryFor(input.runId);
    const p = processInput(this.component, mem.runtime, input);
    // wall-clock time of the decision: for people reading the log; replay and diff ignore it
    const ts = Date.now();
    const res = await this.log.appendOnce(input.runId, `${this.component}|${input.id}`, p.entries.map((e) => ({ ...e, ts })));
    if (res.fresh) {
      const recorded = res.entries[0]!;
      Object.assign(mem, { runtime: p.next, lastSeq: recorded.seq, lastEventId: recorded.eventId, inputs: mem.inputs + 1 });
      this.stats.inputs++;
    } else {
      this.stats.duplicates++;
    }
    this.emit('entries', res.entries as LogEntry[]);
    await this.outbox.sendAll(res.fresh ? p.commands : commandsOf(res.entries));
    // off the path of the commands: they are on their way
    if (res.fresh) await this.maybeSnapshot(input.runId, mem);
  }

  /** The component's state in a run: in memory, or rebuilt from the log (and its snapshot). */
  private async memoryFor(runId: string): Promise<RunMemory> {
    const have = this.runs.get(runId);
    if (have) return have;
    const rebuilt = await rebuildRuntime(this.component, this.log, runId, this.opts.snapshots);
    if (rebuilt.inputs > 0) this.stats.rebuilds++;
    if (rebuilt.fromSnapshot !== undefined) this.stats.snapshotsLoaded++;
    const mem: RunMemory = { ...rebuilt, snapSeq: rebuilt.fromSnapshot ?? 0 };
    this.runs.set(runId, mem);
    // a long fold is worth keeping: the next restart starts from here
    await this.maybeSnapshot(runId, mem);
    return mem;
  }

  /**
   * Counted in log entries, not in the component's inputs: a rebuild reads every entry after the
   * snapshot (all components'), and that read is most of its cost. Written after the input's append,
   * so it never runs ahead of the log; a failed write only costs a longer fold next time, so it does
   * not fail the input.
   */
  private async maybeSnapshot(runId: string, mem: RunMemory): Promise<void> {
    if (!this.opts.snapshots || this.snapshotEvery <= 0 || mem.inputs === 0 || mem.lastSeq - mem.snapSeq < this.snapshotEvery) return;
    try {
      await this.opts.snapshots.save(runId, snapshotOf(this.component, mem));
      mem.snapSeq = mem.lastSeq;
      this.stats.snapshotsWritten++;
    } catch (err) {
      this.emit('warning', `snapshot of ${this.component} in run ${runId} not written: ${(err as Error).message}`);
    }
  }

  /** Forget a run's in-memory state (it stays in the log). */
  forget(runId: string): void {
    this.runs.delete(runId);
  }

  get activeRuns(): number {
    return this.runs.size;
  }
}
