import { EventEmitter } from 'node:events';
import { DEFAULTS } from '../../config/src/index.js';
import { EnvelopeSchema, inputProblem, type Component, type Envelope } from '../../contracts/src/index.js';
import { ORPHAN_RUN_ID, isRunId, withSeq, type InputAppendResult, type InputGate, type Refusal, type RunLog, type SnapshotStore } from '../../event-log/src/index.js';
import type { Outbox } from './outbox.js';
import { channelOrder, commandsOf, processInput, type ComponentRuntime } from './process-input.js';
import { rebuildRuntime, snapshotOf, type Rebuilt } from './rebuild.js';

export interface ComponentHostOptions {
  /** where snapshots of this component's state go; none: every rebuild folds the whole log */
  snapshots?: SnapshotStore;
  /**
   * a snapshot once the run's log has grown by this many entries since the component's last one
   * (default: VSVA_SNAPSHOT_EVERY's); 0 never
   */
  snapshotEvery?: number;
  /**
   * Asked before each input, with the run it claims: a reason not to consume (this process no longer
   * holds the lease on the run's partition, so another may consume it now); the delivery then fails
   * and BullMQ gives it to the lease's holder.
   */
  fence?: (runId: unknown) => string | undefined;
  /** a state hash on each input entry (replay checks it); default true */
  hash?: boolean;
  /**
   * The time stamped on the entries (`ts`: for people reading the log; replay and diff ignore it);
   * default Date.now. A clock that answers undefined stamps none: the embedded engine's, whose log is a
   * function of (scenario, policy, seed, version).
   */
  clock?: () => number | undefined;
  /**
   * The delivered envelopes were built in this process (the embedded engine's fake queue holds only
   * what processInput and the run's own start and timers made, as objects: nothing was decoded), so
   * the schema parse is skipped. A host fed by a queue (every service: jobs decoded from Redis) leaves
   * it off: whatever crosses a process boundary is parsed.
   */
  builtInProcess?: boolean;
}

/** A snapshot every this many log entries by default (the reasoning: VSVA_SNAPSHOT_EVERY in libs/config). */
export const DEFAULT_SNAPSHOT_EVERY = DEFAULTS.snapshotEvery;

/** An envelope's fields in the order commandsOf builds them, to compare one with the recorded command. */
function envelopeFields(e: Envelope): Envelope {
  return { runId: e.runId, id: e.id, type: e.type, from: e.from, to: e.to, causationId: e.causationId, correlationId: e.correlationId, lamport: e.lamport, ...(e.chan === undefined ? {} : { chan: e.chan }), payload: e.payload };
}

/**
 * A delivery that came before a command its sender sent earlier on the same channel: not consumed now.
 * `retryAfterMs` tells the transport to hand it out again later without counting an attempt (the
 * cluster's BullMqServer moves the job to its delayed set; the embedded queue holds it back).
 */
export class OutOfOrderError extends Error {
  readonly retryAfterMs = 50;
  constructor(readonly component: Component, input: Envelope, rt: ComponentRuntime) {
    super(rt.open || component === 'orchestrator'
      ? `${component}: ${input.type} ${input.id} is #${input.chan} from ${input.from}, which has not delivered #${(rt.got?.[input.from] ?? 0) + 1} yet: consumed later, in channel order`
      : `${component}: ${input.type} ${input.id} came before the run's run.open: consumed after it`);
    this.name = 'OutOfOrderError';
  }
}

/**
 * The log's last input of this component in the run is not the one this host's memory knows: another
 * process consumed some of the run's inputs since (a partition handed over while this one was paused).
 * The memory is dropped and the delivery handed out again at once, to be decided on the state rebuilt
 * from the log.
 */
export class StaleMemoryError extends Error {
  readonly retryAfterMs = 0;
  constructor(readonly component: Component, runId: string, seq: number) {
    super(`${component}: its memory of run ${runId} ends at seq ${seq}, and the log has a later input of it: rebuilt from the log and decided again`);
    this.name = 'StaleMemoryError';
  }
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
  /** the inputs of one run, one at a time; runs side by side (their states and keys are disjoint) */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly snapshotEvery: number;
  private readonly clock: () => number | undefined;
  stats = { inputs: 0, duplicates: 0, deadLetters: 0, refused: 0, rebuilds: 0, snapshotsLoaded: 0, snapshotsWritten: 0, deferred: 0, stale: 0 };

  constructor(readonly component: Component, private readonly log: RunLog, private readonly outbox: Outbox, private readonly opts: ComponentHostOptions = {}) {
    super();
    this.snapshotEvery = opts.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    this.clock = opts.clock ?? Date.now;
  }

  /**
   * One input of a run at a time, in arrival order: the log records that order. Inputs of different
   * runs (several partitions consumed by this process) may interleave at their awaits.
   */
  deliver(raw: unknown): Promise<void> {
    const claimed = (raw as { runId?: unknown } | null | undefined)?.runId;
    const fenced = this.opts.fence?.(claimed);
    if (fenced) return Promise.reject(new Error(`${this.component}: not consuming: ${fenced}`));
    const key = typeof claimed === 'string' ? claimed : '';
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() => this.handle(raw));
    const tail = next.catch(() => {});
    this.chains.set(key, tail);
    // the map holds only chains with work queued: the last link removes itself
    void tail.then(() => this.chains.get(key) === tail && this.chains.delete(key));
    return next;
  }

  private async handle(raw: unknown): Promise<void> {
    let input = raw as Envelope;
    if (!this.opts.builtInProcess) {
      const parsed = EnvelopeSchema.safeParse(raw);
      if (!parsed.success) {
        const claimed = (raw as { runId?: unknown } | null | undefined)?.runId;
        await this.deadLetter(claimed, `malformed envelope: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, raw);
        return;
      }
      input = parsed.data as Envelope;
    }
    if (input.to !== this.component) {
      await this.deadLetter(input.runId, `envelope addressed to ${input.to}`, raw);
      return;
    }
    // the payload too, against the component's input schema (libs/contracts messages): off a queue it
    // could be anything, and the decider takes it for the type it names
    const problem = this.opts.builtInProcess ? undefined : inputProblem(this.component, input.type, input.payload);
    if (problem) {
      await this.deadLetter(input.runId, problem, raw);
      return;
    }
    // the run in memory without a turn of the event loop: the common case, once per input
    const mem = this.runs.get(input.runId) ?? (await this.memoryFor(input.runId));
    // put off only in a run that takes inputs: the gate refuses one that is unknown, not started or closed
    if (channelOrder(this.component, mem.runtime, input) === 'early' && ['open', 'draining'].includes((await this.log.runState(input.runId)) ?? '')) {
      this.stats.deferred++;
      throw new OutOfOrderError(this.component, input, mem.runtime);
    }
    const p = processInput(this.component, mem.runtime, input, { hash: this.opts.hash });
    // wall-clock time of the decision: for people reading the log; replay and diff ignore it
    const ts = this.clock();
    const marker = `${this.component}|${input.id}`;
    const entries = ts === undefined ? p.entries : p.entries.map((e) => ({ ...e, ts }));
    // what the gate needs is read off the decision, not taken from the envelope's word
    const gate: InputGate = {
      start: this.component === 'orchestrator' && input.type === 'run.start',
      finishes: p.entries.some((e) => e.kind === 'event' && e.type === 'run.finished'),
      // decided on the state after that input: the append lands only if it is still the component's last
      after: { component: this.component, seq: mem.lastSeq },
    };
    let res: InputAppendResult = await this.log.appendInput(input.runId, marker, entries, gate);
    let why = '';
    if (res.refused === 'finished') {
      // the run is draining: an input lands only if it consumes a command recorded in the log
      const proof = await this.proofOf(input);
      if (typeof proof === 'string') why = proof;
      else res = await this.log.appendInput(input.runId, marker, entries, { ...gate, consumes: proof });
    }
    if (res.refused === 'stale') {
      this.stats.stale++;
      this.runs.delete(input.runId);
      throw new StaleMemoryError(this.component, input.runId, mem.lastSeq);
    }
    if (res.refused) {
      this.stats.refused++;
      // nothing of the run was learnt: a run it never knew leaves no memory behind
      if (mem.inputs === 0 || res.refused === 'closed') this.runs.delete(input.runId);
      await this.deadLetter(input.runId, await this.refusalReason(input, res.refused, why), raw);
      return;
    }
    // where a fresh append's entries start (the input's entry is the first): from the reply, not from
    // decoding what was just written
    const first = res.fresh ? (res.firstSeq ?? res.entries[0]!.seq) : undefined;
    if (first !== undefined) {
      mem.runtime = p.next;
      mem.lastSeq = first;
      mem.lastEventId = p.entries[0]!.eventId;
      mem.inputs++;
      this.stats.inputs++;
    } else {
      this.stats.duplicates++;
      // recorded after everything this memory learnt: an append of this process whose reply it never
      // got (Redis died between the two; the retry found the marker). The memory is the state before
      // that input, so it goes, and the next input folds the run from the log (found by the nemesis).
      if (res.entries[0]!.seq > mem.lastSeq) this.runs.delete(input.runId);
    }
    // for a listener only (the orchestrator's run watch): a fresh append's entries are the ones just
    // built, numbered from there, rather than the log's JSON decoded back
    if (this.listenerCount('entries') > 0) this.emit('entries', first !== undefined ? entries.map((e, i) => withSeq(input.runId, e, first + i)) : res.entries);
    await this.outbox.sendAll(res.fresh ? p.commands : commandsOf(res.entries));
    // off the path of the commands: they are on their way
    if (res.fresh && this.snapshotDue(mem)) await this.maybeSnapshot(input.runId, mem);
  }

  /**
   * The command entry a delivered envelope claims to be, or why it is none: it must be recorded in the
   * log under the envelope's id, and the envelope must be that command as recorded.
   */
  private async proofOf(input: Envelope): Promise<{ seq: number; eventId: string; type: string; from: string; to: string } | string> {
    const cmd = await this.log.findCommand(input.runId, input.id);
    if (!cmd) return `${input.id} is no command recorded in the run's log`;
    const [recorded] = commandsOf([cmd]);
    if (JSON.stringify(recorded) !== JSON.stringify(envelopeFields(input))) return `${input.id} differs from the command recorded at seq ${cmd.seq}`;
    return { seq: cmd.seq, eventId: cmd.eventId, type: cmd.type, from: cmd.component, to: cmd.to ?? '' };
  }

  private async refusalReason(input: Envelope, refusal: Refusal, why: string): Promise<string> {
    const what = `${input.type} ${input.id} from ${input.from}`;
    switch (refusal) {
      case 'unknown': {
        const meta = await this.log.getRunMeta(input.runId);
        return meta
          ? `run ${input.runId} is not open (its meta says ${meta.status}, but no coordinator opened its log): ${what} refused`
          : `run ${input.runId} is unknown (no run meta): ${what} refused`;
      }
      case 'not-started':
        return `run ${input.runId} has not started (the orchestrator has not consumed run.start): ${what} refused`;
      case 'finished':
        return `run ${input.runId} finished (run.finished is in its log): ${what} refused: ${why || 'it consumes no recorded command'}`;
      case 'closed':
        return `run ${input.runId} is closed (finished and settled; its log is final): ${what} refused`;
      case 'stale':
        return `run ${input.runId} has inputs of ${this.component} this process did not decide: ${what} decided again on the rebuilt state`;
    }
  }

  /**
   * Into the run's dead-letter stream, or (a run id the key scheme cannot hold, or a run with no meta)
   * into ORPHAN_RUN_ID's, so that a forged run id leaves no keys of its own.
   */
  private async deadLetter(runId: unknown, reason: string, raw: unknown): Promise<void> {
    this.stats.deadLetters++;
    let to = ORPHAN_RUN_ID;
    if (isRunId(runId) && (await this.log.getRunMeta(runId)) !== undefined) to = runId;
    await this.log.deadLetter(to, `${this.component}: ${reason}`, raw);
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
    if (!this.opts.snapshots || !this.snapshotDue(mem)) return;
    try {
      await this.opts.snapshots.save(runId, snapshotOf(this.component, mem));
      mem.snapSeq = mem.lastSeq;
      this.stats.snapshotsWritten++;
    } catch (err) {
      this.emit('warning', `snapshot of ${this.component} in run ${runId} not written: ${(err as Error).message}`);
    }
  }

  private snapshotDue(mem: RunMemory): boolean {
    return this.opts.snapshots !== undefined && this.snapshotEvery > 0 && mem.inputs > 0 && mem.lastSeq - mem.snapSeq >= this.snapshotEvery;
  }

  /** The component's state in a run as this host holds it in memory (none: it has not consumed an input of the run since it started). */
  runtimeOf(runId: string): ComponentRuntime | undefined {
    return this.runs.get(runId)?.runtime;
  }

  /** Forget a run's in-memory state (it stays in the log). */
  forget(runId: string): void {
    this.runs.delete(runId);
  }

  /**
   * Forget every run the predicate picks (the runs of a partition this process hands over: whoever
   * consumes it next appends inputs this memory would not know of, so a later return rebuilds).
   */
  forgetWhere(pick: (runId: string) => boolean): number {
    let n = 0;
    for (const id of [...this.runs.keys()]) if (pick(id)) this.runs.delete(id), n++;
    return n;
  }

  get activeRuns(): number {
    return this.runs.size;
  }
}
