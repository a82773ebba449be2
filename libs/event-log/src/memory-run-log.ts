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
import type { AppendResult, InputAppendResult, RunMeta } from './run-log.js';
import { RUN_STATES, RunClosedError, gateInput, gateRaw, proves, stateRank, type InputGate, type RunState } from './run-state.js';

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
  state?: RunState;
  /** component -> seq of its last input entry (InputGate.after) */
  heads?: Map<string, number>;
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

  /** The owner's append (see RunLog.appendOnce): throws RunClosedError once the run finished. */
  appendOnceSync(runId: string, markerId: string, entries: NewLogEntry[]): AppendResult {
    const r = this.appendSync(runId, markerId, entries);
    if (r.refused) throw new RunClosedError(runId, r.refused);
    return r;
  }

  /** The data plane's append (see RunLog.appendInput): the same gate as the Lua script, in the same step. */
  appendInputSync(runId: string, markerId: string, entries: NewLogEntry[], gate: InputGate): InputAppendResult {
    return this.appendSync(runId, markerId, entries, gate);
  }

  private appendSync(runId: string, markerId: string, entries: NewLogEntry[], gate?: InputGate): InputAppendResult {
    assertMarker(markerId);
    if (!Array.isArray(entries)) throw new TypeError(`entries must be an array (marker ${markerId})`);
    const existing = this.run(runId, false);
    const mark = existing?.marks.get(markerId);
    if (existing && mark) return { fresh: false, entries: existing.entries.slice(mark[0] - 1, mark[1]), ...(mark[1] >= mark[0] ? { firstSeq: mark[0] } : {}) };
    let next: RunState | undefined;
    if (gate) {
      const p = gate.consumes;
      const v = gateInput(existing?.state, gate, () => !!p && Number.isSafeInteger(p.seq) && p.seq >= 1 && proves(existing?.entries[p.seq - 1], p));
      if (!v.admit) return { refused: v.refusal, fresh: false, entries: [] };
      const head = gate.after ? existing?.heads?.get(gate.after.component) : undefined;
      if (head !== undefined && head !== gate.after!.seq) return { refused: 'stale', fresh: false, entries: [] };
      next = v.next;
    } else {
      const refusal = gateRaw(existing?.state);
      if (refusal) return { refused: refusal, fresh: false, entries: [] };
    }
    const r = existing ?? this.run(runId, true);
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
    if (next) r.state = next;
    if (gate?.after) (r.heads ??= new Map()).set(gate.after.component, first);
    // `made` is the caller's now: the log holds the entries, not the array
    return { fresh: true, entries: made, ...(made.length ? { firstSeq: first } : {}) };
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

  async appendInput(runId: string, markerId: string, entries: NewLogEntry[], gate: InputGate): Promise<InputAppendResult> {
    return this.appendInputSync(runId, markerId, entries, gate);
  }

  async openRun(runId: string, state: Exclude<RunState, 'closed'> = 'ready'): Promise<RunState> {
    if (!RUN_STATES.includes(state)) throw new TypeError(`not a run state: ${String(state)}`);
    const r = this.run(runId, true);
    if (stateRank(r.state) < stateRank(state)) r.state = state;
    return r.state!;
  }

  async closeRun(runId: string): Promise<void> {
    this.run(runId, true).state = 'closed';
  }

  async runState(runId: string): Promise<RunState | undefined> {
    return this.run(runId, false)?.state;
  }

  async findCommand(runId: string, eventId: string): Promise<LogEntry | undefined> {
    const es = this.run(runId, false)?.entries ?? [];
    for (let i = es.length - 1; i >= 0; i--) if (es[i]!.kind === 'command' && es[i]!.eventId === eventId) return es[i];
    return undefined;
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
