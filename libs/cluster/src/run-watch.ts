import type { LogEntry } from '../../contracts/src/index.js';
import type { RunLog } from '../../event-log/src/index.js';

/**
 * Follows the orchestrator's recorded events of one run: arms a timer for each step that started and
 * has not completed, and resolves `finished` at `run.finished`. It takes entries from two sources that
 * overlap and arrive in any order (the host's live entries, and the log read from where it last read,
 * which is what a restarted orchestrator needs: the run may have moved on, or ended, while it was
 * down). Taking an entry twice changes nothing, and no timer is armed for a step already completed,
 * since a late timeout would be a recorded input that an undisturbed run does not have.
 */
export class RunWatch {
  readonly finished: Promise<void>;
  /** the orchestrator consumed the run's start (it is in the log) */
  started = false;
  private done = false;
  private resolve!: () => void;
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly completed = new Set<number>();
  /** the log from seq 1 as far as this watch has read it, in order (the coordinator goes on from there) */
  readonly read: LogEntry[] = [];

  /**
   * `quietSince`: since when the infrastructure (Redis, every service's heartbeat) has been there
   * without a break. A step times out only after `stepMs` of that: a step held up by an outage is
   * the infrastructure's doing, not the model's (issue 8), so its timer waits the outage out.
   */
  constructor(private readonly runId: string, private readonly stepMs: number, private readonly onTimeout: (step: number) => void, private readonly quietSince: () => number = () => 0) {
    this.finished = new Promise((r) => (this.resolve = r));
  }

  take(entries: readonly LogEntry[]): void {
    for (const e of entries) {
      if (e.runId !== this.runId || e.component !== 'orchestrator') continue;
      if (e.kind === 'input' && e.type === 'run.start') this.started = true;
      if (e.kind !== 'event') continue;
      const step = (e.payload as { step?: number }).step;
      if (e.type === 'step.started' && step !== undefined) this.arm(step);
      else if (e.type === 'step.completed' && step !== undefined) this.complete(step);
      else if (e.type === 'run.finished') this.finish();
    }
  }

  /** Reads the log from where this watch last read it (a restart's catch-up, and a backstop after). */
  async readLog(log: RunLog, pageSize = 1000): Promise<void> {
    for (;;) {
      const from = this.read.length + 1;
      const page = await log.read(this.runId, from, from + pageSize - 1);
      this.take(page);
      // sequences run from 1 without a hole: what this page holds comes right after what was read
      for (const e of page) this.read.push(e);
      if (page.length < pageSize) return;
    }
  }

  /**
   * Until `run.finished`: the log read every `pollMs` besides the live entries. A run whose start is
   * not in the log `stepMs` of quiet infrastructure after it was sent never will be (its job was done,
   * its append lost): the watch gives up rather than hold the orchestrator's control queue for ever
   * (found by the chaos soak, before torn append-only files were repaired).
   */
  async untilFinished(log: RunLog, pollMs: number): Promise<void> {
    const sent = Date.now();
    while (!this.done) {
      await Promise.race([this.finished, new Promise((r) => setTimeout(r, pollMs))]);
      if (!this.done) await this.readLog(log);
      if (!this.started && Date.now() - Math.max(sent, this.quietSince()) > this.stepMs) {
        throw new Error(`run ${this.runId}: run.start was sent ${Date.now() - sent} ms ago and the orchestrator has recorded none: giving the run up`);
      }
    }
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private arm(step: number, ms = this.stepMs): void {
    if (this.done || this.completed.has(step) || this.timers.has(step)) return;
    this.timers.set(step, setTimeout(() => {
      this.timers.delete(step);
      if (this.done || this.completed.has(step)) return;
      const quiet = Date.now() - this.quietSince();
      if (quiet < this.stepMs) this.arm(step, this.stepMs - quiet);
      else this.onTimeout(step);
    }, ms));
  }

  private complete(step: number): void {
    this.completed.add(step);
    clearTimeout(this.timers.get(step));
    this.timers.delete(step);
  }

  private finish(): void {
    this.done = true;
    this.stop();
    this.resolve();
  }
}
