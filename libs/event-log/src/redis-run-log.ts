import { once } from 'node:events';
import type { Redis, RedisOptions } from 'ioredis';
import { connectRedis } from '../../redis/src/index.js';
import { COMPONENTS, type LogEntry, type NewLogEntry } from '../../contracts/src/index.js';
import { APPEND_ONCE_LUA, OPEN_RUN_LUA } from './append-once.lua.js';
import { DEFAULT_PAGE_SIZE, type AppendBatch, type BatchRunLog } from './batch.js';
import { snapshotKey } from './snapshots.js';
import {
  assertMarker,
  assertPageSize,
  assertSeqBound,
  decodeEntry,
  decodeRaw,
  encodeRaw,
  entryHead,
  entryTail,
} from './entry-codec.js';
import { DEFAULT_PREFIX, assertPrefix, runKeys, runsIndexKey, type RunKeys } from './keys.js';
import type { AppendResult, InputAppendResult, RunMeta } from './run-log.js';
import { RUN_STATES, RunClosedError, type InputGate, type Refusal, type RunState } from './run-state.js';

export interface RedisRunLogOptions {
  /** key prefix, default `vsva` */
  prefix?: string;
}

/**
 * The name the append script is registered under on the connection (ioredis sends EVAL the first time
 * on a socket, EVALSHA after, and resends on NOSCRIPT).
 */
const APPEND_COMMAND = 'vsvaEventLogAppendOnce';
const OPEN_COMMAND = 'vsvaEventLogOpenRun';

type AppendCommand = (args: Array<string>) => Promise<unknown>;
type StreamRow = [id: string, fields: string[]];
type PipelineLike = Record<string, AppendCommand> & { exec(): Promise<Array<[Error | null, unknown]> | null> };

/** Calls per pipeline in appendMany. */
const PIPELINE_CHUNK = 1000;

/**
 * A run's log in Redis (DESIGN.md §2.2-2.3): a stream per run whose ids are the sequence numbers,
 * appended by one Lua script together with the input's marker.
 */
export class RedisRunLog implements BatchRunLog {
  readonly prefix: string;
  private readonly owned: boolean;

  /** `ownsConnection`: close() quits the connection (fromUrl sets it). */
  constructor(
    readonly redis: Redis,
    opts: RedisRunLogOptions & { ownsConnection?: boolean } = {},
  ) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    assertPrefix(this.prefix);
    this.owned = opts.ownsConnection ?? false;
    if (typeof (redis as unknown as Record<string, unknown>)[APPEND_COMMAND] !== 'function') {
      redis.defineCommand(APPEND_COMMAND, { numberOfKeys: 5, lua: APPEND_ONCE_LUA });
    }
    if (typeof (redis as unknown as Record<string, unknown>)[OPEN_COMMAND] !== 'function') {
      redis.defineCommand(OPEN_COMMAND, { numberOfKeys: 1, lua: OPEN_RUN_LUA });
    }
  }

  /** A log on its own connection; `close()` ends it. */
  static fromUrl(url: string, opts: RedisRunLogOptions & { redis?: RedisOptions } = {}): RedisRunLog {
    const redis = connectRedis(url, opts.redis ?? {});
    return new RedisRunLog(redis, { prefix: opts.prefix, ownsConnection: true });
  }

  /** Ends the connection if this log opened it (fromUrl); a connection passed in is the caller's. */
  async close(): Promise<void> {
    if (!this.owned || this.redis.status === 'end') return;
    // an 'error' before 'end' rejects `once`; the caller hears of it through quit(), not as an unhandled rejection
    const ended = once(this.redis, 'end').catch(() => {});
    await this.redis.quit();
    await ended;
  }

  keys(runId: string): RunKeys {
    return runKeys(runId, this.prefix);
  }

  async appendOnce(runId: string, markerId: string, entries: NewLogEntry[]): Promise<AppendResult> {
    const call = this.prepareAppend(runId, markerId, entries);
    const reply = await (this.redis as unknown as Record<string, AppendCommand>)[APPEND_COMMAND](call.args);
    return raw(runId, decodeAppendReply(runId, markerId, call.head, call.tails, reply));
  }

  async appendInput(runId: string, markerId: string, entries: NewLogEntry[], gate: InputGate): Promise<InputAppendResult> {
    const call = this.prepareAppend(runId, markerId, entries, gate);
    const reply = await (this.redis as unknown as Record<string, AppendCommand>)[APPEND_COMMAND](call.args);
    return decodeAppendReply(runId, markerId, call.head, call.tails, reply);
  }

  async openRun(runId: string, state: Exclude<RunState, 'closed'> = 'ready'): Promise<RunState> {
    if (!RUN_STATES.includes(state)) throw new TypeError(`not a run state: ${String(state)}`);
    const now = await (this.redis as unknown as Record<string, AppendCommand>)[OPEN_COMMAND]!([this.keys(runId).state, state]);
    return now as RunState;
  }

  async closeRun(runId: string): Promise<void> {
    await this.redis.set(this.keys(runId).state, 'closed');
  }

  async runState(runId: string): Promise<RunState | undefined> {
    const s = await this.redis.get(this.keys(runId).state);
    return s === null ? undefined : (s as RunState);
  }

  /** From the end, a page at a time: the command an unwind consumes is usually among the last ones. */
  async findCommand(runId: string, eventId: string, pageSize = DEFAULT_PAGE_SIZE): Promise<LogEntry | undefined> {
    const { log } = this.keys(runId);
    const needle = `,"eventId":${JSON.stringify(eventId)},"kind":"command",`;
    let end = '+';
    for (;;) {
      const rows = (await this.redis.xrevrange(log, end, '-', 'COUNT', pageSize)) as StreamRow[];
      for (const row of rows) {
        // a cheap test on the stored JSON first; the entry decides
        const json = row[1][row[1].indexOf('e') + 1];
        if (json === undefined || !json.includes(needle)) continue;
        const e = decodeRow(row);
        if (e.kind === 'command' && e.eventId === eventId) return e;
      }
      if (rows.length < pageSize) return undefined;
      const seq = seqOfId(rows[rows.length - 1]![0]);
      if (seq <= 1) return undefined;
      end = `${seq - 1}-0`;
    }
  }

  /**
   * Many appendOnce calls pipelined in one go (sent back to back on the connection, in order, without
   * waiting for replies; split into pipelines of PIPELINE_CHUNK calls to bound buffers). Each call is
   * atomic on its own; the whole is not. A call that fails (bad entry, script error) fails alone: the
   * others take effect, and the first failure is thrown once all have run.
   */
  async appendMany(runId: string, batches: AppendBatch[]): Promise<AppendResult[]> {
    type Prepared = ReturnType<RedisRunLog['prepareAppend']>;
    const outcomes: Array<Promise<AppendResult>> = [];
    let pipeline: PipelineLike | undefined;
    let pending: Array<{ i: number; call: Prepared }> = [];
    const flush = () => {
      if (!pipeline) return;
      const p = pipeline.exec();
      for (const [k, { i, call }] of pending.entries()) {
        outcomes[i] = p.then((replies) => {
          if (!replies) throw new Error('pipeline was discarded');
          const [err, reply] = replies[k]!;
          if (err) throw err;
          return raw(runId, decodeAppendReply(runId, batches[i]!.markerId, call.head, call.tails, reply));
        });
      }
      pipeline = undefined;
      pending = [];
    };
    batches.forEach((b, i) => {
      let call: Prepared;
      try {
        call = this.prepareAppend(runId, b.markerId, b.entries);
      } catch (e) {
        outcomes[i] = Promise.reject(e as Error);
        return;
      }
      pipeline ??= this.redis.pipeline() as unknown as PipelineLike;
      void pipeline[APPEND_COMMAND]!(call.args);
      pending.push({ i, call });
      if (pending.length >= PIPELINE_CHUNK) flush();
    });
    flush();
    const settled = await Promise.allSettled(outcomes);
    const failed = settled.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      const cause = (settled[failed] as PromiseRejectedResult).reason as Error;
      throw new Error(`appendMany on run ${runId}: marker ${batches[failed]!.markerId} failed: ${cause.message}`, {
        cause,
      });
    }
    return settled.map((r) => (r as PromiseFulfilledResult<AppendResult>).value);
  }

  /** `gate` absent: the owner's (raw) append. */
  private prepareAppend(runId: string, markerId: string, entries: NewLogEntry[], gate?: InputGate) {
    const k = this.keys(runId);
    assertMarker(markerId);
    if (!Array.isArray(entries)) throw new TypeError(`entries must be an array (marker ${markerId})`);
    const head = entryHead(runId);
    const tails = entries.map((e) => entryTail(runId, e));
    const mode = gate ? `in${gate.start ? 'S' : ''}${gate.finishes ? 'F' : ''}` : 'raw';
    const p = gate?.consumes;
    const proof = p ? [String(p.seq), p.eventId, p.type, p.from, p.to] : ['', '', '', '', ''];
    const after = gate?.after ? [gate.after.component, String(gate.after.seq)] : ['', ''];
    return { head, tails, args: [k.log, k.marks, k.seq, k.state, k.heads, markerId, head, mode, ...proof, ...after, ...tails] };
  }

  async read(runId: string, fromSeq?: number, toSeq?: number): Promise<LogEntry[]> {
    assertSeqBound('fromSeq', fromSeq);
    assertSeqBound('toSeq', toSeq);
    const { log } = this.keys(runId);
    if (toSeq !== undefined && (toSeq < 1 || (fromSeq !== undefined && fromSeq > toSeq))) return [];
    const start = fromSeq === undefined || fromSeq < 1 ? '-' : `${fromSeq}-0`;
    const end = toSeq === undefined ? '+' : `${toSeq}-0`;
    const rows = (await this.redis.xrange(log, start, end)) as StreamRow[];
    return rows.map(decodeRow);
  }

  /**
   * The entries after `afterSeq`, waiting up to `blockMs` for the first one to be appended (XREAD
   * BLOCK): follows a run as it is written, within a millisecond of each append. It blocks the
   * connection meanwhile, so a follower uses a log of its own.
   */
  async readAfter(runId: string, afterSeq: number, blockMs: number, count = DEFAULT_PAGE_SIZE): Promise<LogEntry[]> {
    assertSeqBound('afterSeq', afterSeq);
    assertPageSize(count);
    const res = (await this.redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.keys(runId).log, `${Math.max(0, afterSeq)}-0`)) as Array<[string, StreamRow[]]> | null;
    return (res?.[0]?.[1] ?? []).map(decodeRow);
  }

  async *readPages(runId: string, pageSize: number = DEFAULT_PAGE_SIZE): AsyncIterable<LogEntry[]> {
    assertPageSize(pageSize);
    const { log } = this.keys(runId);
    let start = '-';
    for (;;) {
      const rows = (await this.redis.xrange(log, start, '+', 'COUNT', pageSize)) as StreamRow[];
      if (rows.length === 0) return;
      yield rows.map(decodeRow);
      if (rows.length < pageSize) return;
      start = `${seqOfId(rows[rows.length - 1]![0]) + 1}-0`;
    }
  }

  async length(runId: string): Promise<number> {
    return this.redis.xlen(this.keys(runId).log);
  }

  async deadLetter(runId: string, reason: string, raw: unknown): Promise<void> {
    const enc = encodeRaw(raw);
    const fields: string[] = ['reason', String(reason)];
    for (const [k, v] of Object.entries(enc)) fields.push(k, v);
    fields.push('ts', String(Date.now()));
    await this.redis.xadd(this.keys(runId).dlq, '*', ...fields);
  }

  async readDeadLetters(runId: string): Promise<Array<{ reason: string; raw: unknown; ts: number }>> {
    const rows = (await this.redis.xrange(this.keys(runId).dlq, '-', '+')) as StreamRow[];
    return rows.map(([, f]) => {
      const o: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) o[f[i]!] = f[i + 1]!;
      return { reason: o.reason ?? '', raw: decodeRaw(o), ts: Number(o.ts) };
    });
  }

  async putRunMeta(meta: RunMeta): Promise<void> {
    const k = this.keys(meta.runId);
    // the index lives outside the run's slot: its own command
    await Promise.all([
      this.redis.set(k.meta, JSON.stringify(meta)),
      this.redis.zadd(runsIndexKey(this.prefix), meta.startedAt, meta.runId),
    ]);
  }

  async getRunMeta(runId: string): Promise<RunMeta | undefined> {
    const json = await this.redis.get(this.keys(runId).meta);
    return json === null ? undefined : (JSON.parse(json) as RunMeta);
  }

  /** Newest first (by startedAt; ties by run id, descending). */
  async listRuns(): Promise<RunMeta[]> {
    const ids = await this.redis.zrevrange(runsIndexKey(this.prefix), 0, -1);
    if (ids.length === 0) return [];
    // one GET per run, sent together: each meta is in its run's slot, and a Cluster's pipeline takes one slot
    const replies = await Promise.all(ids.map((id) => this.redis.get(this.keys(id).meta)));
    return replies.filter((json): json is string => typeof json === 'string').map((json) => JSON.parse(json) as RunMeta);
  }

  async deleteRun(runId: string): Promise<void> {
    const k = this.keys(runId);
    // snapshots are derived data beside the log (snapshots.ts): one per component that took one
    const snaps = COMPONENTS.map((c) => snapshotKey(runId, c, this.prefix));
    await this.redis.del(k.log, k.marks, k.seq, k.dlq, k.meta, k.state, k.heads, ...snaps);
    await this.redis.zrem(runsIndexKey(this.prefix), runId);
  }
}

function seqOfId(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

function decodeRow([id, fields]: StreamRow): LogEntry {
  const i = fields.indexOf('e');
  if (i < 0 || i % 2 !== 0 || fields[i + 1] === undefined) {
    throw new Error(`log stream entry ${id} has no 'e' field`);
  }
  return decodeEntry(fields[i + 1]!);
}

/** An owner's append refused by the run's state: thrown, since the owner asked for a log that takes it. */
function raw(runId: string, r: InputAppendResult): AppendResult {
  if (r.refused) throw new RunClosedError(runId, r.refused);
  return r;
}

function decodeAppendReply(
  runId: string,
  markerId: string,
  head: string,
  tails: string[],
  reply: unknown,
): InputAppendResult {
  if (Array.isArray(reply) && reply[0] === -1 && reply.length === 2) {
    return { refused: reply[1] as Refusal, fresh: false, entries: [] };
  }
  if (!Array.isArray(reply) || reply.length < 3) {
    throw new Error(`append on run ${runId}: unexpected reply from the append script: ${JSON.stringify(reply)}`);
  }
  const [flag, first, last] = reply as [number, number, number];
  if (flag === 1) {
    // Parsed back when first read, not here: a caller that only appends (appendMany of an import or a
    // bulk load) does not pay for decoding what it just wrote (~20% of appendMany's client CPU with
    // the garbage it makes). Same strings, same entries: only when the JSON.parse happens changes.
    let entries: LogEntry[] | undefined;
    return {
      fresh: true,
      ...(tails.length ? { firstSeq: first } : {}),
      get entries(): LogEntry[] {
        return (entries ??= tails.map((t, i) => decodeEntry(`${head}${first + i}${t}`)));
      },
    };
  }
  const recorded = (reply as unknown[]).slice(3) as string[];
  const expected = Math.max(0, last - first + 1);
  if (recorded.length !== expected) {
    throw new Error(
      `run ${runId}: marker ${markerId} recorded seq ${first}..${last} but the log holds ${recorded.length} of them`,
    );
  }
  return { fresh: false, entries: recorded.map(decodeEntry), ...(recorded.length ? { firstSeq: first } : {}) };
}

