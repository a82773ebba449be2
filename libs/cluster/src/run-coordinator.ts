import { Inject, Injectable } from '@nestjs/common';
import type { ChaosParams, LogEntry, ResolvedPolicy } from '../../contracts/src/index.js';
import { buildReport, ComponentHost, runStartEnvelope, stepTimeoutEnvelope, type Outbox, type RunReport } from '../../runtime/src/index.js';
import type { RunLog } from '../../event-log/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import { QueueOutbox } from './outbox.js';
import { RunWatch } from './run-watch.js';
import { infraQuietSince } from './service-lease.js';
import { RUN_LOG } from './tokens.js';

export interface RunRequest {
  runId: string;
  scenario: Scenario;
  file?: string;
  policy: ResolvedPolicy;
  seed: number;
  /** a step with no completion after this long gets a recorded step.timeout */
  stepTimeoutMs?: number;
  reproduce: string;
  /** a chaos run's fault parameters: recorded in run.start (the report and replay show them) */
  chaos?: ChaosParams;
}

/**
 * The orchestrator's side of a run in the cluster: it starts the run through its own data queue,
 * arms a timer per step (the timeout becomes a recorded input), and when the log says the run
 * finished, checks the history and answers with the report.
 *
 * Idempotent, because BullMQ redelivers the `run.start` request of an orchestrator that died to its
 * successor: the run is not started again (the start is sent only if the log has not consumed it,
 * and its marker dedupes a second one anyway), the log is read to catch up with what happened
 * meanwhile (the step in flight gets its timer again; a `run.finished` already recorded ends the wait
 * at once), and the caller gets the report from whichever process answers.
 */
@Injectable()
export class RunCoordinator {
  /** how often the log is read besides the host's live entries */
  static readonly POLL_MS = 500;

  constructor(@Inject(ComponentHost) private readonly host: ComponentHost, @Inject(RUN_LOG) private readonly log: RunLog, @Inject(QueueOutbox) private readonly outbox: Outbox) {}

  async start(req: RunRequest): Promise<RunReport> {
    const prior = await this.log.getRunMeta(req.runId);
    const startedAt = prior?.startedAt ?? Date.now();
    const meta = { runId: req.runId, scenario: { name: req.scenario.name, file: req.file }, policy: req.policy, seed: req.seed, engine: 'cluster' as const, startedAt };
    if (!prior) await this.log.putRunMeta({ ...meta, status: 'running' });
    const timeout = (step: number) =>
      void this.outbox.send(stepTimeoutEnvelope(req.runId, step)).catch((err: Error) => this.host.emit('warning', `step ${step} of run ${req.runId}: timeout not sent: ${err.message}`));
    const watch = new RunWatch(req.runId, req.stepTimeoutMs ?? 15_000, timeout, infraQuietSince);
    const onEntries = (es: LogEntry[]) => watch.take(es);
    this.host.on('entries', onEntries);
    try {
      // listening first, then reading: nothing recorded in between is missed
      await watch.readLog(this.log);
      // the data plane takes the run's inputs from now on (run-state.ts); a successor finds it opened
      // already, and a run that started (or finished) is never moved back
      const ended = await Promise.race([watch.finished.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
      await this.log.openRun(req.runId, ended ? 'draining' : watch.started ? 'open' : 'ready');
      if (!watch.started) await this.outbox.send(runStartEnvelope(req.runId, { scenario: req.scenario, policy: req.policy, seed: req.seed, ...(req.chaos ? { chaos: req.chaos } : {}) }));
      await watch.untilFinished(this.log, RunCoordinator.POLL_MS);
    } finally {
      this.host.off('entries', onEntries);
      watch.stop();
    }
    let entries = await this.settled(req.runId, req.stepTimeoutMs ?? 15_000, watch.read);
    // closed: nothing lands any more (inputs are dead-lettered with the reason), the log is final
    await this.log.closeRun(req.runId);
    // quiescent after run.finished, nothing could have landed since the read; otherwise read the final log
    if (!quiescent(entries)) entries = await this.log.read(req.runId);
    await this.log.putRunMeta({ ...meta, status: 'finished' });
    this.host.forget(req.runId);
    return buildReport({ runId: req.runId, entries, scenario: meta.scenario, policy: req.policy, engine: 'cluster', seed: req.seed, wallMs: Date.now() - startedAt, reproduce: req.reproduce });
  }

  /**
   * The history once every recorded command has been consumed: the unwinds in flight at run.finished
   * land after it (the log is draining: only inputs that consume a recorded command are taken), then
   * the caller closes the log. After `maxMs` of quiet infrastructure (the run's step timeout) the log is
   * closed as it stands, and a late unwind is dead-lettered with its reason. `read`: the log from seq 1
   * as far as it was read already.
   */
  private async settled(runId: string, maxMs: number, read: readonly LogEntry[]): Promise<LogEntry[]> {
    const since = Date.now();
    let wait = 10;
    // followed from what the run's watch read, not re-read: sequences run from 1 without a hole, so
    // what comes next is after entries.length
    const entries: LogEntry[] = [...read];
    for (;;) {
      for (const e of await this.log.read(runId, entries.length + 1)) entries.push(e);
      // a receiver paused or restarting, a job in its backoff: they come back within the step timeout of
      // quiet infrastructure. Closing sooner dead-lettered their commands, recorded and never consumed
      // (found by the chaos soak: a 3 s bound against a 4 s pause)
      if (quiescent(entries) || Date.now() - Math.max(since, infraQuietSince()) > maxMs) return entries;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 200);
    }
  }
}

/** Every command entry has been consumed: an input entry names it as its cause. */
export function quiescent(entries: LogEntry[]): boolean {
  const consumed = new Set(entries.filter((e) => e.kind === 'input').map((e) => e.causationId));
  return entries.every((e) => e.kind !== 'command' || consumed.has(e.eventId));
}
