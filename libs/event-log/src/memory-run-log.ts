import type { LogEntry, NewLogEntry } from '../../contracts/src/index.js';
import {
  assertMarker,
  assertPageSize,
  assertSeqBound,
  decodeEntry,
  decodeRaw,
  encodeRaw,
  entryHead,
  entryTail,
  withSeq,
  type EncodedRaw,
} from './entry-codec.js';
import { assertRunId } from './keys.js';
import { DEFAULT_PAGE_SIZE, type AppendBatch, type BatchRunLog } from './batch.js';
import type { AppendResult, RunMeta } from './run-log.js';

export interface MemoryRunLogOptions {
  /**
   * true (default): entries go through the same JSON encoding as the Redis log, so what is read back is
   * the same object, key for key, and the caller's objects are never shared with the log.
   * false: entries are stored as `{ runId, seq, ...entry }` without the JSON round trip (the embedded
   * engine's hot loop; the caller must hand over plain JSON data).
   */
  clone?: boolean;
}

interface MemRun {
  entries: LogEntry[];
  /** markerId -> [first, last]; first > last for an input that produced nothing */
  marks: Map<string, [number, number]>;
  dlq: Array<{ reason: string; enc: EncodedRaw; ts: number }>;
  meta?: string;
}

/**
 * The same log in memory (embedded engine, replay of an exported file). Entries read back are frozen:
 * they are the log's own objects.
 */
export class MemoryRunLog implements BatchRunLog {
  private readonly runs = new Map<string, MemRun>();
  private readonly clone: boolean;

  constructor(opts: MemoryRunLogOptions = {}) {
    this.clone = opts.clone ?? true;
  }

  private run(runId: string, create: true): MemRun;
  private run(runId: string, create: false): MemRun | undefined;
  private run(runId: string, create: boolean): MemRun | undefined {
    assertRunId(runId);
    let r = this.runs.get(runId);
    if (!r && create) {
      r = { entries: [], marks: new Map(), dlq: [] };
      this.runs.set(runId, r);
    }
    return r;
  }

  appendOnceSync(runId: string, markerId: string, entries: NewLogEntry[]): AppendResult {
    assertMarker(markerId);
    if (!Array.isArray(entries)) throw new TypeError(`entries must be an array (marker ${markerId})`);
    const r = this.run(runId, true);
    const mark = r.marks.get(markerId);
    if (mark) return { fresh: false, entries: r.entries.slice(mark[0] - 1, mark[1]) };
    // encode everything before touching the log, so a bad entry leaves it as it was
    const first = r.entries.length + 1;
    let made: LogEntry[];
    if (this.clone) {
      const head = entryHead(runId);
      made = entries.map((e, i) => Object.freeze(decodeEntry(`${head}${first + i}${entryTail(runId, e)}`)));
    } else {
      made = entries.map((e, i) => Object.freeze(withSeq(runId, e, first + i)));
    }
    for (const e of made) r.entries.push(e);
    r.marks.set(markerId, [first, first + made.length - 1]);
    return { fresh: true, entries: made.slice() };
  }

  /** entries with fromSeq <= seq <= toSeq, synchronously */
  readSync(runId: string, fromSeq?: number, toSeq?: number): LogEntry[] {
    assertSeqBound('fromSeq', fromSeq);
    assertSeqBound('toSeq', toSeq);
    const r = this.run(runId, false);
    if (!r) return [];
    const from = Math.max(1, fromSeq ?? 1);
    const to = Math.min(r.entries.length, toSeq ?? r.entries.length);
    return from > to ? [] : r.entries.slice(from - 1, to);
  }

  lengthSync(runId: string): number {
    return this.run(runId, false)?.entries.length ?? 0;
  }

  async appendOnce(runId: string, markerId: string, entries: NewLogEntry[]): Promise<AppendResult> {
    return this.appendOnceSync(runId, markerId, entries);
  }

  /** Same contract as RedisRunLog.appendMany: each call atomic, the first failure thrown after the rest ran. */
  async appendMany(runId: string, batches: AppendBatch[]): Promise<AppendResult[]> {
    const out: AppendResult[] = [];
    let failure: Error | undefined;
    for (const b of batches) {
      try {
        out.push(this.appendOnceSync(runId, b.markerId, b.entries));
      } catch (e) {
        failure ??= new Error(`appendMany on run ${runId}: marker ${b.markerId} failed: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
    if (failure) throw failure;
    return out;
  }

  async read(runId: string, fromSeq?: number, toSeq?: number): Promise<LogEntry[]> {
    return this.readSync(runId, fromSeq, toSeq);
  }

  async *readPages(runId: string, pageSize: number = DEFAULT_PAGE_SIZE): AsyncIterable<LogEntry[]> {
    assertPageSize(pageSize);
    let from = 1;
    for (;;) {
      const page = this.readSync(runId, from, from + pageSize - 1);
      if (page.length === 0) return;
      yield page;
      if (page.length < pageSize) return;
      from += pageSize;
    }
  }

  async length(runId: string): Promise<number> {
    return this.lengthSync(runId);
  }

  async deadLetter(runId: string, reason: string, raw: unknown): Promise<void> {
    this.run(runId, true).dlq.push({ reason: String(reason), enc: encodeRaw(raw), ts: Date.now() });
  }

  async readDeadLetters(runId: string): Promise<Array<{ reason: string; raw: unknown; ts: number }>> {
    return (this.run(runId, false)?.dlq ?? []).map((d) => ({ reason: d.reason, raw: decodeRaw(d.enc), ts: d.ts }));
  }

  async putRunMeta(meta: RunMeta): Promise<void> {
    this.run(meta.runId, true).meta = JSON.stringify(meta);
  }

  async getRunMeta(runId: string): Promise<RunMeta | undefined> {
    const m = this.run(runId, false)?.meta;
    return m === undefined ? undefined : (JSON.parse(m) as RunMeta);
  }

  /** Newest first (by startedAt; ties by run id, descending), like the Redis index. */
  async listRuns(): Promise<RunMeta[]> {
    const metas: RunMeta[] = [];
    for (const r of this.runs.values()) if (r.meta !== undefined) metas.push(JSON.parse(r.meta) as RunMeta);
    return metas.sort((a, b) => b.startedAt - a.startedAt || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
  }

  async deleteRun(runId: string): Promise<void> {
    assertRunId(runId);
    this.runs.delete(runId);
  }
}
