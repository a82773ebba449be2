import { DEFAULTS } from '../../config/src/index.js';
import { RUN_ID_PATTERN } from '../../contracts/src/index.js';

/**
 * Key names of a run's log (DESIGN.md §2.2). Every key of one run carries the run id as a Redis Cluster
 * hash tag (`{runId}`), so the Lua append touches one slot. The run index is the one key outside it.
 */
export const DEFAULT_PREFIX = DEFAULTS.prefix;

export interface RunKeys {
  /** the log: a stream whose ids are `${seq}-0` */
  log: string;
  /** hash markerId -> "first,last" (the sequences recorded with that input) */
  marks: string;
  /** the run's sequence counter (last sequence handed out) */
  seq: string;
  /** dead letters: a stream of { reason, raw, ts } */
  dlq: string;
  /** the RunMeta as JSON */
  meta: string;
  /** the run's data-plane state (run-state.ts): ready, open, draining or closed; absent: not opened */
  state: string;
  /** hash component -> seq of its last input entry (InputGate.after) */
  heads: string;
}

/**
 * Dead letters of envelopes that belong to no run this log knows (no run meta, or a run id the key
 * scheme cannot hold) are kept under this id, so a forged run id leaves no keys of its own.
 */
export const ORPHAN_RUN_ID = '_unknown';

/** A run id becomes a hash tag: braces in it would change the slot, and an empty one would not hash. */
export function isRunId(runId: unknown): runId is string {
  return typeof runId === 'string' && RUN_ID_PATTERN.test(runId);
}

export function assertRunId(runId: string): void {
  if (typeof runId !== 'string' || runId.length === 0) {
    throw new TypeError(`run id must be a non-empty string, got ${JSON.stringify(runId)}`);
  }
  if (/[{}\s]/.test(runId)) {
    throw new TypeError(`run id '${runId}' must not contain braces or whitespace (it is a Redis Cluster hash tag)`);
  }
}

export function assertPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}\s]/.test(prefix)) {
    throw new TypeError(`key prefix must be non-empty without braces or whitespace, got ${JSON.stringify(prefix)}`);
  }
}

export function runKeys(runId: string, prefix: string = DEFAULT_PREFIX): RunKeys {
  assertRunId(runId);
  const base = `${prefix}:{${runId}}`;
  return {
    log: `${base}:log`,
    marks: `${base}:marks`,
    seq: `${base}:seq`,
    dlq: `${base}:dlq`,
    meta: `${base}:meta`,
    state: `${base}:state`,
    heads: `${base}:heads`,
  };
}

/** Sorted set of run ids scored by startedAt (in its own slot: write it in a separate command). */
export function runsIndexKey(prefix: string = DEFAULT_PREFIX): string {
  return `${prefix}:runs`;
}
