import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { finished, pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { LogEntrySchema, RunIdSchema, SCHEMA_VERSION, type LogEntry, type ResolvedPolicy } from '../../contracts/src/index.js';
import { hasAppendMany, type AppendBatch } from './batch.js';
import type { AppendResult, RunLog, RunMeta } from './run-log.js';
import { ResolvedPolicySchema } from './run-meta.js';
import type { RunState } from './run-state.js';

/**
 * A run's log as NDJSON: one header line, then one LogEntry per line in sequence order (1..N).
 * `startedAt` and `status` are optional extras beyond the brief's header, so an import restores the
 * run's meta exactly; without them an import uses exportedAt (or now) and 'finished'.
 * `stateHashes: false` says the run was recorded without state hashes (an embedded run with
 * `hash: false`); otherwise (true, or absent in older files) every input entry carries one, and a
 * reader refuses a file where one is missing: replay would otherwise skip the comparison silently.
 */
export interface ExportHeader {
  format: 'vsva-sim-log';
  schemaVersion: 1;
  vsvaSimVersion: string;
  runId: string;
  scenario: RunMeta['scenario'];
  policy: ResolvedPolicy;
  seed: number;
  engine: RunMeta['engine'];
  entries: number;
  exportedAt?: number;
  startedAt?: number;
  status?: RunMeta['status'];
  stateHashes?: boolean;
}

export const ExportHeaderSchema = z.object({
  format: z.literal('vsva-sim-log'),
  schemaVersion: z.literal(SCHEMA_VERSION),
  vsvaSimVersion: z.string(),
  runId: RunIdSchema,
  scenario: z.object({ name: z.string(), file: z.string().optional() }),
  policy: ResolvedPolicySchema,
  seed: z.number().int(),
  engine: z.enum(['cluster', 'embedded']),
  entries: z.number().int().nonnegative(),
  exportedAt: z.number().optional(),
  startedAt: z.number().optional(),
  status: z.enum(['running', 'finished', 'failed']).optional(),
  stateHashes: z.boolean().optional(),
}) satisfies z.ZodType<ExportHeader>;

/** A file that is not a valid export: names the file, the line (1 = header) and what is wrong. */
export class NdjsonError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
    this.name = 'NdjsonError';
  }
}

/** An import with `replace` onto a run that is live: its services may still append to it. */
export class RunLiveError extends Error {
  constructor(
    readonly runId: string,
    readonly state: RunState | 'running',
  ) {
    super(
      `run ${runId} is live (${state === 'running' ? 'its run meta says running' : `its log is ${state}`}): it cannot be replaced while it may still be appended to`,
    );
    this.name = 'RunLiveError';
  }
}

/** An import onto a run id that already has a log or meta, without `replace`. */
export class RunExistsError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} already exists; import with replace to overwrite it`);
    this.name = 'RunExistsError';
  }
}

const LINES_PER_WRITE = 1000;

// ---------------------------------------------------------------------------------------------- write

/**
 * Writes header + entries to `out`, streaming (the entries may be an async iterable of pages, e.g.
 * `log.readPages(runId)`). The file appears under its name only when complete. Entries must be the
 * run's, with sequences 1..N. Returns the header written.
 */
export async function writeNdjson(
  meta: RunMeta,
  entries: AsyncIterable<LogEntry[]> | LogEntry[],
  out: string,
  version: string,
  /** `exportedAt: null` leaves the export time out, so that a deterministic run exports byte-identical files */
  opts: { exportedAt?: number | null } = {},
): Promise<ExportHeader> {
  const tmp = `${out}.${process.pid}.tmp`;
  const exportedAt = opts.exportedAt === null ? undefined : (opts.exportedAt ?? Date.now());
  const makeHeader = (count: number, stateHashes: boolean): ExportHeader => ({
    format: 'vsva-sim-log',
    schemaVersion: SCHEMA_VERSION,
    vsvaSimVersion: version,
    runId: meta.runId,
    scenario: meta.scenario,
    policy: meta.policy,
    seed: meta.seed,
    engine: meta.engine,
    entries: count,
    ...(exportedAt === undefined ? {} : { exportedAt }),
    startedAt: meta.startedAt,
    status: meta.status,
    stateHashes,
  });
  const check = seqChecker(meta.runId);
  try {
    let header: ExportHeader;
    if (Array.isArray(entries)) {
      for (const e of entries) check.hash(e);
      header = makeHeader(entries.length, check.stateHashes());
      const ws = createWriteStream(tmp);
      await writeLine(ws, JSON.stringify(header) + '\n');
      for (let i = 0; i < entries.length; i += LINES_PER_WRITE) {
        await writeLine(ws, linesOf(entries.slice(i, i + LINES_PER_WRITE), check));
      }
      await endStream(ws);
    } else {
      // the count goes in the header: write the body aside first, then header + body
      const body = `${out}.${process.pid}.body.tmp`;
      try {
        const bs = createWriteStream(body);
        for await (const page of entries) await writeLine(bs, linesOf(page, check));
        await endStream(bs);
        header = makeHeader(check.count(), check.stateHashes());
        const ws = createWriteStream(tmp);
        await writeLine(ws, JSON.stringify(header) + '\n');
        await pipeline(createReadStream(body), ws);
      } finally {
        await rm(body, { force: true });
      }
    }
    await rename(tmp, out);
    return header;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Exports a run of a log to `out`; throws if the run has no meta. */
export async function exportRun(log: RunLog, runId: string, out: string, version: string): Promise<ExportHeader> {
  const meta = await log.getRunMeta(runId);
  if (!meta) throw new Error(`run ${runId} not found (no run meta)`);
  return writeNdjson(meta, log.readPages(runId), out, version);
}

/** The writer's side of what a reader insists on: sequences 1..N, and state hashes on all inputs or on none. */
function seqChecker(runId: string) {
  let next = 1;
  let hashed: number | undefined;
  let unhashed: number | undefined;
  const hash = (e: LogEntry) => {
    if (e.kind !== 'input') return;
    if (e.stateHash === undefined) unhashed ??= e.seq;
    else hashed ??= e.seq;
    if (hashed !== undefined && unhashed !== undefined) {
      throw new Error(`export of run ${runId}: input seq ${unhashed} has no state hash but input seq ${hashed} has one (a log is hashed throughout or not at all)`);
    }
  };
  return {
    take(e: LogEntry): void {
      if (e.runId !== runId) throw new Error(`export of run ${runId}: entry seq ${e.seq} belongs to run ${e.runId}`);
      if (e.seq !== next) throw new Error(`export of run ${runId}: entry seq ${e.seq} where ${next} was expected`);
      next++;
      hash(e);
    },
    hash,
    count: () => next - 1,
    stateHashes: () => unhashed === undefined,
  };
}

function linesOf(page: LogEntry[], check: ReturnType<typeof seqChecker>): string {
  let s = '';
  for (const e of page) {
    check.take(e);
    s += JSON.stringify(e) + '\n';
  }
  return s;
}

async function writeLine(ws: WriteStream, chunk: string): Promise<void> {
  if (chunk.length > 0 && !ws.write(chunk)) await once(ws, 'drain');
}

async function endStream(ws: WriteStream): Promise<void> {
  ws.end();
  await finished(ws);
}

// ----------------------------------------------------------------------------------------------- read

export interface NdjsonReader {
  header: ExportHeader;
  /** the entries in pages, each line validated; throws NdjsonError at the first bad line */
  pages: AsyncIterable<LogEntry[]>;
  /** stops reading (the file is closed): for a reader that wanted the header only */
  close(): void;
}

/**
 * Opens an export for streaming: validates the header at once, the entries as `pages` is consumed.
 * Each entry is checked against LogEntrySchema, the header's run id and the next sequence number
 * (1..N, no gaps); at the end the count must match the header's. Entries are returned as written
 * (no key reordering, no field dropped).
 */
export async function openNdjson(file: string, pageSize = LINES_PER_WRITE): Promise<NdjsonReader> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  const lines = rl[Symbol.asyncIterator]();
  let lineNo = 0;
  const close = () => {
    rl.close();
    input.destroy();
  };
  const nextLine = async (): Promise<string | undefined> => {
    for (;;) {
      let r: IteratorResult<string>;
      try {
        r = await lines.next();
      } catch (e) {
        close();
        throw new NdjsonError(file, undefined, `cannot read: ${(e as Error).message}`);
      }
      if (r.done) return undefined;
      lineNo++;
      if (r.value.trim() !== '') return r.value;
    }
  };

  const headerLine = await nextLine();
  if (headerLine === undefined) {
    close();
    throw new NdjsonError(file, 1, 'empty file: expected a vsva-sim-log header line');
  }
  const headerAt = lineNo;
  const header = parseLine(file, headerAt, headerLine, ExportHeaderSchema, 'header') as ExportHeader;

  const hashed = header.stateHashes !== false;
  async function* pages(): AsyncGenerator<LogEntry[]> {
    let expected = 1;
    let page: LogEntry[] = [];
    try {
      for (let line = await nextLine(); line !== undefined; line = await nextLine()) {
        const e = parseLine(file, lineNo, line, LogEntrySchema, 'log entry') as LogEntry;
        if (e.runId !== header.runId) {
          throw new NdjsonError(file, lineNo, `entry of run '${e.runId}' in the export of run '${header.runId}'`);
        }
        if (e.seq !== expected) {
          throw new NdjsonError(
            file,
            lineNo,
            `sequence ${e.seq} where ${expected} was expected (sequence numbers must run 1..N without gaps or repeats)`,
          );
        }
        if (e.seq > header.entries) {
          throw new NdjsonError(file, lineNo, `entry seq ${e.seq} is beyond the ${header.entries} entries the header announces`);
        }
        if (e.kind === 'input' && (e.stateHash === undefined) === hashed) {
          throw new NdjsonError(
            file,
            lineNo,
            hashed
              ? `input entry seq ${e.seq} has no state hash (the header does not say the run was recorded without them, so replay could not check this input's state)`
              : `input entry seq ${e.seq} has a state hash, but the header says the run was recorded without them`,
          );
        }
        expected++;
        page.push(e);
        if (page.length >= pageSize) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
      if (expected - 1 !== header.entries) {
        throw new NdjsonError(
          file,
          headerAt,
          `header says ${header.entries} entries, the file has ${expected - 1} (it ends after seq ${expected - 1}: truncated?)`,
        );
      }
    } finally {
      close();
    }
  }
  return { header, pages: pages(), close };
}

/** Reads and validates a whole export. */
export async function readNdjson(file: string): Promise<{ header: ExportHeader; entries: LogEntry[] }> {
  const { header, pages } = await openNdjson(file);
  const entries: LogEntry[] = [];
  for await (const page of pages) for (const e of page) entries.push(e);
  return { header, entries };
}

function parseLine(file: string, line: number, text: string, schema: z.ZodType, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NdjsonError(file, line, `${what} is not valid JSON: ${(e as Error).message}`);
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new NdjsonError(file, line, `bad ${what}: ${describeIssues(r.error)}`);
  // the value as written: validation only, no reordering or stripping of fields
  return value;
}

function describeIssues(err: z.ZodError): string {
  return err.issues
    .map((i) => (i.path.length > 0 ? `field '${i.path.map(String).join('.')}': ${i.message}` : i.message))
    .join('; ');
}

// --------------------------------------------------------------------------------------------- import

export interface ImportOptions {
  /** delete an existing run with the same id first (default: refuse with RunExistsError) */
  replace?: boolean;
  /** entries per marker (default 500) */
  entriesPerMarker?: number;
}

/**
 * Writes an export back into a log under its run id, sequences preserved, then its run meta.
 * The file is validated completely before the log is touched. Entries are appended in chunks of
 * `entriesPerMarker` consecutive entries, each under the marker `import:${firstSeq}-${lastSeq}`
 * (the original markers are not part of an export; an imported run is read and replayed, not
 * redelivered to), and it is closed (run-state.ts) once written. A failure while writing removes the
 * half-imported run. With `replace`, a live run (its log ready, open or draining, or its meta saying
 * running) is refused with RunLiveError before anything is touched.
 */
export async function importRun(
  log: RunLog,
  file: string,
  opts: ImportOptions = {},
): Promise<{ header: ExportHeader; meta: RunMeta; entries: number }> {
  const perMarker = opts.entriesPerMarker ?? 500;
  // pass 1: validate everything, keep nothing
  const { header } = await openNdjson(file).then(async (r) => {
    for await (const _ of r.pages) {
      // validation happens in the iterator
    }
    return r;
  });
  const runId = header.runId;
  const prior = await log.getRunMeta(runId);
  const state = await log.runState(runId);
  const exists = prior !== undefined || state !== undefined || (await log.length(runId)) > 0;
  if (exists && !opts.replace) throw new RunExistsError(runId);
  if (state !== undefined && state !== 'closed') throw new RunLiveError(runId, state);
  if (state === undefined && prior?.status === 'running') throw new RunLiveError(runId, 'running');
  if (exists) await log.deleteRun(runId);

  const meta: RunMeta = {
    runId,
    scenario: header.scenario,
    policy: header.policy,
    seed: header.seed,
    engine: header.engine,
    startedAt: header.startedAt ?? header.exportedAt ?? Date.now(),
    status: header.status ?? 'finished',
  };
  let count = 0;
  try {
    // pass 2: append, page by page
    const { pages } = await openNdjson(file);
    for await (const page of pages) {
      const chunks: LogEntry[][] = [];
      for (let i = 0; i < page.length; i += perMarker) chunks.push(page.slice(i, i + perMarker));
      const batches: AppendBatch[] = chunks.map((c) => ({
        markerId: `import:${c[0]!.seq}-${c[c.length - 1]!.seq}`,
        entries: c,
      }));
      const results: AppendResult[] = hasAppendMany(log)
        ? await log.appendMany(runId, batches)
        : await sequential(log, runId, batches);
      results.forEach((r, b) => {
        const want = chunks[b]!;
        const got = r.entries;
        if (!r.fresh || got.length !== want.length || got[0]?.seq !== want[0]?.seq) {
          throw new Error(
            `import of run ${runId}: entries ${want[0]?.seq}..${want[want.length - 1]?.seq} landed at seq ${got[0]?.seq} (another writer on this run?)`,
          );
        }
      });
      count += page.length;
    }
    await log.putRunMeta(meta);
    // an imported run is read and replayed, never appended to
    await log.closeRun(runId);
  } catch (e) {
    await log.deleteRun(runId).catch(() => {});
    throw e;
  }
  return { header, meta, entries: count };
}

async function sequential(log: RunLog, runId: string, batches: AppendBatch[]): Promise<AppendResult[]> {
  const out: AppendResult[] = [];
  for (const b of batches) out.push(await log.appendOnce(runId, b.markerId, b.entries));
  return out;
}
