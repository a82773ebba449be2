import { EventEmitter } from 'node:events';
import { EnvelopeSchema, type Component, type Envelope, type LogEntry } from '../../contracts/src/index.js';
import { commandsOf, initialRuntime, processInput, type ComponentRuntime } from '../../engine/src/runtime.js';
import type { RunLog } from '../../event-log/src/index.js';
import type { Outbox } from './outbox.js';

/**
 * The thin shell around one component's decider (DESIGN.md §2.1-2.3): validate the delivered
 * envelope, decide, append the input and its outputs atomically with a marker, then send the
 * commands. A redelivered input finds its marker and re-sends what was recorded, deciding nothing.
 */
export class ComponentHost extends EventEmitter {
  private readonly runs = new Map<string, ComponentRuntime>();
  private chain: Promise<unknown> = Promise.resolve();
  stats = { inputs: 0, duplicates: 0, deadLetters: 0, rebuilds: 0 };

  constructor(readonly component: Component, private readonly log: RunLog, private readonly outbox: Outbox) {
    super();
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
    const rt = await this.runtimeFor(input.runId);
    const p = processInput(this.component, rt, input);
    // wall-clock time of the decision: for people reading the log; replay and diff ignore it
    const ts = Date.now();
    const res = await this.log.appendOnce(input.runId, `${this.component}|${input.id}`, p.entries.map((e) => ({ ...e, ts })));
    if (res.fresh) {
      this.runs.set(input.runId, p.next);
      this.stats.inputs++;
    } else {
      this.stats.duplicates++;
    }
    this.emit('entries', res.entries as LogEntry[]);
    await this.outbox.sendAll(res.fresh ? p.commands : commandsOf(res.entries));
  }

  /** The component's state in a run: in memory, or rebuilt by folding its recorded inputs. */
  private async runtimeFor(runId: string): Promise<ComponentRuntime> {
    const have = this.runs.get(runId);
    if (have) return have;
    let rt = initialRuntime(this.component);
    let rebuilt = false;
    for await (const page of this.log.readPages(runId)) {
      for (const e of page) {
        if (e.kind !== 'input' || e.component !== this.component) continue;
        rt = processInput(this.component, rt, e.payload as Envelope, { hash: false }).next;
        rebuilt = true;
      }
    }
    if (rebuilt) this.stats.rebuilds++;
    this.runs.set(runId, rt);
    return rt;
  }

  /** Forget a run's in-memory state (it stays in the log). */
  forget(runId: string): void {
    this.runs.delete(runId);
  }

  get activeRuns(): number {
    return this.runs.size;
  }
}
