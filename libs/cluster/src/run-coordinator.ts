import { Inject, Injectable } from '@nestjs/common';
import type { LogEntry, ResolvedPolicy } from '../../contracts/src/index.js';
import { buildReport, type RunReport } from '../../engine/src/report.js';
import { runStartEnvelope, stepTimeoutEnvelope } from '../../engine/src/runtime.js';
import type { RunLog } from '../../event-log/src/index.js';
import type { Scenario } from '../../scenario/src/schema.js';
import { ComponentHost } from './component-host.js';
import { Outbox } from './outbox.js';
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
}

/**
 * The orchestrator's side of a run in the cluster: it starts the run through its own data queue,
 * arms a timer per step (the timeout becomes a recorded input), and when the log says the run
 * finished, checks the history and answers with the report.
 */
@Injectable()
export class RunCoordinator {
  constructor(@Inject(ComponentHost) private readonly host: ComponentHost, @Inject(RUN_LOG) private readonly log: RunLog, @Inject(Outbox) private readonly outbox: Outbox) {}

  async start(req: RunRequest): Promise<RunReport> {
    const t0 = Date.now();
    const meta = { runId: req.runId, scenario: { name: req.scenario.name, file: req.file }, policy: req.policy, seed: req.seed, engine: 'cluster' as const, startedAt: t0 };
    await this.log.putRunMeta({ ...meta, status: 'running' });
    const timers = new Map<number, NodeJS.Timeout>();
    const stepMs = req.stepTimeoutMs ?? 15_000;
    let onEntries: (es: LogEntry[]) => void = () => {};
    const finished = new Promise<void>((resolve) => {
      onEntries = (es) => {
        for (const e of es) {
          if (e.runId !== req.runId || e.kind !== 'event' || e.component !== 'orchestrator') continue;
          const step = (e.payload as { step?: number }).step;
          if (e.type === 'step.started' && step !== undefined) {
            timers.set(step, setTimeout(() => void this.outbox.send(stepTimeoutEnvelope(req.runId, step)), stepMs));
          } else if (e.type === 'step.completed' && step !== undefined) {
            clearTimeout(timers.get(step));
            timers.delete(step);
          } else if (e.type === 'run.finished') resolve();
        }
      };
      this.host.on('entries', onEntries);
    });
    try {
      await this.outbox.send(runStartEnvelope(req.runId, { scenario: req.scenario, policy: req.policy, seed: req.seed }));
      await finished;
    } finally {
      this.host.off('entries', onEntries);
      for (const t of timers.values()) clearTimeout(t);
    }
    const entries = await this.settled(req.runId);
    await this.log.putRunMeta({ ...meta, status: 'finished' });
    this.host.forget(req.runId);
    return buildReport({ runId: req.runId, entries, scenario: meta.scenario, policy: req.policy, engine: 'cluster', seed: req.seed, wallMs: Date.now() - t0, reproduce: req.reproduce });
  }

  /** The history once every recorded command has been consumed (unwinds may land after run.finished). */
  private async settled(runId: string, maxMs = 3000): Promise<LogEntry[]> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const entries = await this.log.read(runId);
      if (quiescent(entries) || Date.now() > deadline) return entries;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Every command entry has been consumed: an input entry names it as its cause. */
export function quiescent(entries: LogEntry[]): boolean {
  const consumed = new Set(entries.filter((e) => e.kind === 'input').map((e) => e.causationId));
  return entries.every((e) => e.kind !== 'command' || consumed.has(e.eventId));
}
