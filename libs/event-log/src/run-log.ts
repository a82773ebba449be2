import type { LogEntry, NewLogEntry, ResolvedPolicy } from '../../contracts/src/index.js';
import type { InputGate, Refusal, RunState } from './run-state.js';

/** What a run is, stored beside its log and carried in an export's header line. */
export interface RunMeta {
  runId: string;
  /** scenario name and the file it came from */
  scenario: { name: string; file?: string };
  policy: ResolvedPolicy;
  seed: number;
  engine: 'cluster' | 'embedded';
  startedAt: number;
  status: 'running' | 'finished' | 'failed';
}

export interface AppendResult {
  /** false when the marker already existed: nothing was appended */
  fresh: boolean;
  /** the entries recorded with the marker (the new ones, or the ones recorded the first time) */
  entries: LogEntry[];
  /**
   * The seq of the first of them, when there is one: what a caller that keeps its place in the log
   * needs, without decoding `entries` (the Redis log decodes them when first read).
   */
  firstSeq?: number;
}

/** A data-plane append: appended (or answered from its marker), or refused by the run's state with nothing written. */
export type InputAppendResult = (AppendResult & { refused?: undefined }) | { refused: Refusal; fresh: false; entries: [] };

/**
 * A run's log (DESIGN.md §2, points 2-3). Sequence numbers are global to the run and start at 1.
 * `appendOnce` appends the entries caused by one input together with a marker for that input,
 * atomically; a second call with the same marker appends nothing and returns what was recorded.
 */
export interface RunLog {
  /**
   * The owner's append (import, bulk loads, tests): no run state needed, but refused with
   * RunClosedError once the run is draining or closed (run-state.ts).
   */
  appendOnce(runId: string, markerId: string, entries: NewLogEntry[]): Promise<AppendResult>;
  /**
   * The data plane's append (a component consuming an input): the marker check, the run-state gate
   * (run-state.ts) and the append are one atomic step. A refused input changes nothing.
   */
  appendInput(runId: string, markerId: string, entries: NewLogEntry[], gate: InputGate): Promise<InputAppendResult>;
  /** Puts the run in `state` unless it is already there or further on; returns the state it is in. */
  openRun(runId: string, state?: Exclude<RunState, 'closed'>): Promise<RunState>;
  /** The log is final: every append is refused from now on. */
  closeRun(runId: string): Promise<void>;
  runState(runId: string): Promise<RunState | undefined>;
  /** The command entry with this event id, if the log has one (searched from the end). */
  findCommand(runId: string, eventId: string): Promise<LogEntry | undefined>;
  /** entries with fromSeq <= seq <= toSeq (both optional), in sequence order */
  read(runId: string, fromSeq?: number, toSeq?: number): Promise<LogEntry[]>;
  /** the whole log in pages, for long runs */
  readPages(runId: string, pageSize?: number): AsyncIterable<LogEntry[]>;
  length(runId: string): Promise<number>;
  /** a payload that failed validation, with the reason: nothing is dropped silently */
  deadLetter(runId: string, reason: string, raw: unknown): Promise<void>;
  readDeadLetters(runId: string): Promise<Array<{ reason: string; raw: unknown; ts: number }>>;
  putRunMeta(meta: RunMeta): Promise<void>;
  getRunMeta(runId: string): Promise<RunMeta | undefined>;
  listRuns(): Promise<RunMeta[]>;
  /** removes everything of the run (tests, `import` over an existing id) */
  deleteRun(runId: string): Promise<void>;
}
