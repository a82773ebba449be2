import type { NewLogEntry } from '../../contracts/src/index.js';
import type { AppendResult, RunLog } from './run-log.js';

/** Default page size of readPages. */
export const DEFAULT_PAGE_SIZE = 1000;

/** One appendOnce of an appendMany. */
export interface AppendBatch {
  markerId: string;
  entries: NewLogEntry[];
}

/** A log that can also take many appendOnce calls at once (both implementations are). */
export interface BatchRunLog extends RunLog {
  /** Each call atomic on its own, the batch as a whole not; the first failure is thrown after the rest ran. */
  appendMany(runId: string, batches: AppendBatch[]): Promise<AppendResult[]>;
}

export function hasAppendMany(log: RunLog): log is BatchRunLog {
  return typeof (log as Partial<BatchRunLog>).appendMany === 'function';
}
