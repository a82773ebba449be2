import type { Component, Envelope } from '../../contracts/src/index.js';
import type { Outbox } from '../../runtime/src/index.js';

/** The jobs from one sender to one receiver, in the order sent. */
export interface Channel {
  /** `<from>><to>`: the order the scheduler draws channels in */
  readonly key: string;
  readonly jobs: Envelope[];
}

/**
 * The embedded engine's queues: what BullMQ is to the services, the seeded scheduler being its workers.
 * One FIFO channel per (sender, receiver). A job's id is `<runId>.<eventId>`, as the cluster's
 * QueueOutbox makes it, and a job added under an id the queue holds or held is dropped, as BullMQ
 * drops it: a command re-sent after a redelivery is not doubled.
 */
export class ChannelQueue implements Outbox {
  private readonly channels = new Map<string, Map<Component, Channel>>();
  /** the channels with jobs waiting, sorted by key, kept so as jobs come and go (not sorted per delivery) */
  readonly ready: Channel[] = [];
  /** job ids by run, `<runId>.<eventId>` in two levels: no string built per job */
  private readonly jobIds = new Map<string, Set<string>>();
  /** jobs taken and not done, waiting out a backoff (BullMQ's delayed set), due at a scheduling slot */
  private readonly delayed: Array<{ job: Envelope; due: number }> = [];
  readonly stats = { added: 0, dropped: 0 };
  /** at least how many delayed jobs wait on `progress` (one promoteSoonest took early still counts) */
  private putOff = 0;

  async send(e: Envelope): Promise<void> {
    this.add(e);
  }

  async sendAll(es: Envelope[]): Promise<void> {
    for (const e of es) this.add(e);
  }

  /** Adds the job unless its id is taken: false when it was dropped. */
  add(e: Envelope): boolean {
    let ids = this.jobIds.get(e.runId);
    if (!ids) this.jobIds.set(e.runId, (ids = new Set()));
    if (ids.has(e.id)) {
      this.stats.dropped++;
      return false;
    }
    ids.add(e.id);
    this.stats.added++;
    this.push(e);
    return true;
  }

  /** A job taken and not done: it waits until slot `due`, then goes back behind its channel's later jobs (a retry after a backoff). */
  delay(job: Envelope, due: number): void {
    this.delayed.push({ job, due });
  }

  /**
   * A job its receiver put off (it came before an earlier one it needs: its run.open, or its channel's
   * previous command): it waits until some other delivery is done (`progress`). Back after a fixed
   * slot, two put-off jobs of a channel the default order draws first could be drawn in turn for ever,
   * starving the one they wait for.
   */
  defer(job: Envelope): void {
    this.delayed.push({ job, due: Infinity });
    this.putOff++;
  }

  /** A delivery was done at `slot`: the jobs put off until then are due (every delivery calls it: nothing to do is the common case). */
  progress(slot: number): void {
    if (!this.putOff) return;
    for (const d of this.delayed) if (d.due === Infinity) d.due = slot;
    this.putOff = 0;
  }

  /** The delayed jobs due by `slot` back on their channels, in the order they were delayed. */
  promote(slot: number): void {
    for (let k = 0; k < this.delayed.length; ) {
      if (this.delayed[k]!.due <= slot) this.push(this.delayed.splice(k, 1)[0]!.job);
      else k++;
    }
  }

  /** Nothing else waiting: the soonest delayed job back on its channel (time jumps to it); false when none is delayed. */
  promoteSoonest(): boolean {
    if (!this.delayed.length) return false;
    let k = 0;
    for (let j = 1; j < this.delayed.length; j++) if (this.delayed[j]!.due < this.delayed[k]!.due) k = j;
    this.push(this.delayed.splice(k, 1)[0]!.job);
    return true;
  }

  /** Takes the job at the head of `ready[i]`. */
  take(i: number): Envelope {
    const ch = this.ready[i]!;
    const e = ch.jobs.shift()!;
    if (!ch.jobs.length) this.ready.splice(i, 1);
    return e;
  }

  /** The first ready channel (in key order) whose head job has this event id; -1: none. */
  headOf(eventId: string): number {
    return this.ready.findIndex((ch) => ch.jobs[0]!.id === eventId);
  }

  private push(e: Envelope): void {
    let from = this.channels.get(e.from);
    if (!from) this.channels.set(e.from, (from = new Map()));
    let ch = from.get(e.to);
    if (!ch) from.set(e.to, (ch = { key: `${e.from}>${e.to}`, jobs: [] }));
    if (!ch.jobs.length) {
      let i = 0;
      while (i < this.ready.length && this.ready[i]!.key < ch.key) i++;
      this.ready.splice(i, 0, ch);
    }
    ch.jobs.push(e);
  }
}
