import { COMPONENTS, type Component, type Envelope, type LogEntry } from '../../contracts/src/index.js';
import { ComponentHost, OutOfOrderError, type ComponentHostOptions, type ComponentRuntime, type Outbox } from '../../runtime/src/index.js';
import { ComponentCrash, type CrashableRunLog, type CrashSwitch } from './crash.js';
import type { CrashPoint, FaultCounts } from './faults.js';

/** What the hosts did about the faults, summed over every host a component had. */
export interface HostStats {
  /** deliveries answered from their marker (a duplicate, a redelivery after the append) */
  duplicates: number;
  /** deliveries put off because an earlier command of their channel had not been consumed */
  deferred: number;
  rebuilds: number;
  snapshotsLoaded: number;
  snapshotsWritten: number;
}

/**
 * The five components' ComponentHosts in one process, over one log and one outbox. A host that
 * crashes is replaced, as a restarted service is: a new host over the same log and snapshot store,
 * which rebuilds the run from the snapshot and the log when the job is delivered to it again.
 */
export class SimHosts {
  private readonly hosts: Record<Component, ComponentHost>;
  private readonly booted: ComponentHost[] = [];
  private shown = 0;

  constructor(
    private readonly runId: string,
    private readonly log: CrashableRunLog,
    private readonly outbox: Outbox,
    private readonly crash: CrashSwitch,
    private readonly opts: ComponentHostOptions,
    private readonly counts: FaultCounts,
    private readonly onEntries?: (entries: LogEntry[]) => void,
  ) {
    this.hosts = Object.fromEntries(COMPONENTS.map((c) => [c, this.boot(c)])) as Record<Component, ComponentHost>;
  }

  /**
   * Delivers a job to its component, which dies at `crashAt` if given; the job, never acknowledged,
   * then goes to its successor. An input the host refuses ends the run with the host's reason.
   * 'deferred': the host did not consume it (it came before an earlier command of its channel).
   */
  async deliver(input: Envelope, crashAt?: CrashPoint): Promise<'done' | 'deferred'> {
    let host = this.hosts[input.to];
    let dead = host.stats.deadLetters;
    this.crash.armed = crashAt;
    try {
      await host.deliver(input);
    } catch (err) {
      if (err instanceof OutOfOrderError) return 'deferred';
      if (!(err instanceof ComponentCrash)) throw err;
      this.counts.crash[err.point]++;
      // a lost reply leaves the process alive: the job comes back to it; a crash, to its successor
      if (err.point !== 'reply-lost') {
        host = this.hosts[input.to] = this.boot(input.to);
        dead = 0;
      }
      await host.deliver(input);
    } finally {
      this.crash.armed = undefined;
    }
    if (host.stats.deadLetters > dead) {
      const reason = (await this.log.readDeadLetters(this.runId)).at(-1)?.reason;
      throw new Error(`embedded run ${this.runId}: ${input.type} ${input.id} to ${input.to} refused: ${reason}`);
    }
    return 'done';
  }

  /** The component's state in the run as its host holds it (none in memory: none yet). */
  runtimeOf(c: Component): ComponentRuntime | undefined {
    return this.hosts[c].runtimeOf(this.runId);
  }

  stats(): HostStats {
    const s: HostStats = { duplicates: 0, deferred: 0, rebuilds: 0, snapshotsLoaded: 0, snapshotsWritten: 0 };
    for (const h of this.booted) {
      s.duplicates += h.stats.duplicates;
      s.deferred += h.stats.deferred;
      s.rebuilds += h.stats.rebuilds;
      s.snapshotsLoaded += h.stats.snapshotsLoaded;
      s.snapshotsWritten += h.stats.snapshotsWritten;
    }
    return s;
  }

  private boot(c: Component): ComponentHost {
    const h = new ComponentHost(c, this.log, this.outbox, this.opts);
    // a redelivery's host emits the entries recorded the first time: the caller sees each entry once
    if (this.onEntries) h.on('entries', (es: LogEntry[]) => this.show(es));
    this.booted.push(h);
    return h;
  }

  private show(es: LogEntry[]): void {
    if (!es.length || es[0]!.seq <= this.shown) return;
    this.shown = es[es.length - 1]!.seq;
    this.onEntries!(es);
  }
}
