import type { LogEntry, ResolvedPolicy } from '../../../contracts/src/index.js';
import { checkHistory, type Violation } from '../../../checkers/src/index.js';
import { runEmbedded } from '../../../engine/src/index.js';
import { parseDoc, type ScenarioDoc } from '../../../scenario/src/index.js';
import { sizeOf, type Size } from './size.js';

/** The scheduler of a run: its seed, and its bias toward the default order (none: a uniform draw). */
export interface Schedule {
  seed: number;
  bias?: number;
}

/** Whether a run still shows the finding. */
export type Holds = (violations: Violation[], entries: LogEntry[]) => boolean;

export interface Progress {
  runs: number;
  /** the dimension being shrunk */
  dimension: string;
  size: Size;
}

/**
 * The current smallest scenario and schedule that hold, and the runs spent: each candidate is parsed
 * (one that breaks a rule costs nothing), run in the embedded engine and kept when it still holds.
 */
export class Shrinker {
  runs = 0;
  budgetHit = false;
  dimension = 'start';
  entries: LogEntry[] = [];
  /** candidates that did not hold, by doc and schedule: a later pass that meets one again does not run it */
  private readonly failed = new Set<string>();

  constructor(
    public doc: ScenarioDoc,
    public schedule: Schedule,
    private readonly o: { policy: ResolvedPolicy; holds: Holds; maxRuns: number; onProgress?: (p: Progress) => void },
  ) {}

  /** Whether the current scenario and schedule hold (the input, before any candidate). */
  start(): Promise<boolean> {
    return this.attempt(this.doc, this.schedule, true);
  }

  /** Runs the candidate; when it holds it becomes the current one. */
  async attempt(doc: ScenarioDoc, schedule: Schedule = this.schedule, again = false): Promise<boolean> {
    const scenario = parseDoc(doc);
    if (!scenario) return false;
    const key = JSON.stringify([doc, schedule]);
    if (this.failed.has(key) || (!again && key === JSON.stringify([this.doc, this.schedule]))) return false;
    if (this.runs >= this.o.maxRuns) {
      this.budgetHit = true;
      return false;
    }
    this.runs++;
    let entries: LogEntry[] | undefined;
    try {
      entries = (await runEmbedded({ runId: 'shrink', scenario, policy: this.o.policy, seed: schedule.seed, bias: schedule.bias, hash: false })).entries;
    } catch {
      // the engine gave up on the candidate (a bound on deliveries, a step timed out twice): not the finding
    }
    const ok = !!entries && this.o.holds(checkHistory(entries).violations, entries);
    this.o.onProgress?.({ runs: this.runs, dimension: this.dimension, size: sizeOf(ok ? doc : this.doc) });
    if (!ok) {
      this.failed.add(key);
      return false;
    }
    this.doc = doc;
    this.schedule = schedule;
    this.entries = entries!;
    return true;
  }
}
