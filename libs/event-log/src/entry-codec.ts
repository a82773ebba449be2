import { inspect } from 'node:util';
import type { LogEntry, NewLogEntry } from '../../contracts/src/index.js';

/**
 * How an entry is turned into the JSON the log stores. Both logs (Redis and memory) use it, so an entry
 * read back from either is the same object with the same key order: `runId`, `seq`, then the entry's own
 * fields in the order the caller gave them (JSON semantics: undefined fields vanish).
 */

/** The part of every entry's JSON before its sequence number: `{"runId":"…","seq":`. */
export function entryHead(runId: string): string {
  return `{"runId":${JSON.stringify(runId)},"seq":`;
}

/** The part after the sequence number: `,"eventId":…}` (or `}`). Throws if the entry belongs to another run. */
export function entryTail(runId: string, entry: NewLogEntry): string {
  if (entry === null || typeof entry !== 'object') {
    throw new TypeError(`log entry must be an object, got ${entry === null ? 'null' : typeof entry}`);
  }
  if (entry.runId !== runId) {
    throw new TypeError(`entry ${entry.eventId} has runId '${String(entry.runId)}', appended to run '${runId}'`);
  }
  const { runId: _r, seq: _s, ...rest } = entry as NewLogEntry & { seq?: unknown };
  const body = JSON.stringify(rest);
  return body === '{}' ? '}' : `,${body.slice(1)}`;
}

export function decodeEntry(json: string): LogEntry {
  return JSON.parse(json) as LogEntry;
}

/** The object the stored JSON decodes to, without the JSON round trip (memory log with clone off). */
export function withSeq(runId: string, entry: NewLogEntry, seq: number): LogEntry {
  if (entry.runId !== runId) {
    throw new TypeError(`entry ${entry.eventId} has runId '${String(entry.runId)}', appended to run '${runId}'`);
  }
  // one copy: the entry's own runId lands on the first key, its fields after seq
  if (!('seq' in entry)) return { runId, seq, ...(entry as Omit<NewLogEntry, 'runId'>) } as LogEntry;
  const { runId: _r, seq: _s, ...rest } = entry as NewLogEntry & { seq?: unknown };
  return { runId, seq, ...rest } as LogEntry;
}

export function assertMarker(markerId: string): void {
  if (typeof markerId !== 'string' || markerId.length === 0) {
    throw new TypeError(`marker id must be a non-empty string, got ${JSON.stringify(markerId)}`);
  }
}

/** Sequence bounds of read(): integers, or absent. */
export function assertSeqBound(name: string, v: number | undefined): void {
  if (v !== undefined && !Number.isSafeInteger(v)) {
    throw new RangeError(`${name} must be an integer, got ${String(v)}`);
  }
}

export function assertPageSize(pageSize: number): void {
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`page size must be a positive integer, got ${String(pageSize)}`);
  }
}

/**
 * A dead letter's raw payload as stored: JSON when it has one; otherwise (undefined, cycles, BigInt)
 * a text rendering, so that nothing handed to the dead-letter stream is lost.
 */
export type EncodedRaw = { raw: string } | { rawText: string } | Record<string, never>;

export function encodeRaw(raw: unknown): EncodedRaw {
  if (raw === undefined) return {};
  try {
    const json = JSON.stringify(raw);
    if (json !== undefined) return { raw: json };
  } catch {
    // not JSON-able: fall through to text
  }
  return { rawText: inspect(raw, { depth: 20, breakLength: Infinity }) };
}

export function decodeRaw(fields: { raw?: string; rawText?: string }): unknown {
  if (fields.raw !== undefined) return JSON.parse(fields.raw);
  if (fields.rawText !== undefined) return fields.rawText;
  return undefined;
}
