import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LogEntry } from '../../../libs/contracts/src/index.js';
import { NdjsonError, readNdjson, type RedisRunLog, type RunMeta } from '../../../libs/event-log/src/index.js';
import { buildReport, type RunReport } from '../../../libs/runtime/src/index.js';

/** Where a run was read from: the cluster's Redis, or an exported file. */
export type RunOrigin = { kind: 'redis' } | { kind: 'file'; path: string };

/** A row of the run list. */
export interface RunSummary {
  runId: string;
  scenario: string;
  policy: string;
  engine: RunMeta['engine'];
  seed: number;
  status: RunMeta['status'];
  /** pass / fail by the checkers; `running` while a live run is still written */
  verdict: 'pass' | 'fail' | 'running';
  violations: number;
  entries: number;
  startedAt: number;
  origin: RunOrigin['kind'];
}

/** A run read whole: its meta, its entries, and the report `run` would print for it. */
export interface OpenRun {
  meta: RunMeta;
  origin: RunOrigin;
  entries: LogEntry[];
  report: RunReport;
}

/** The run id is unknown to every source: the pages answer 404. */
export class UnknownRunError extends Error {
  constructor(readonly runId: string) {
    super(`no run '${runId}'`);
  }
}

/** A file the catalog found is not a readable export: listed nowhere, said once. */
export interface SkippedFile {
  path: string;
  why: string;
}

/** An export's header line is short: a policy's values and a scenario's name. */
const HEADER_BYTES = 64 * 1024;

/**
 * A run whose report (the checkers over the whole log) is made when first asked for: a live run is read
 * again at every poll of its page, and is checked only when its verdict is shown.
 */
function openRun(meta: RunMeta, origin: RunOrigin, entries: LogEntry[]): OpenRun {
  let report: RunReport | undefined;
  return {
    meta, origin, entries,
    get report() {
      report ??= buildReport({ runId: meta.runId, entries, scenario: meta.scenario, policy: meta.policy, engine: meta.engine, seed: meta.seed, wallMs: 0, reproduce: '' });
      return report;
    },
  };
}

/**
 * The runs the dashboard shows: those in the cluster's Redis (newest first) and the exported files in
 * the folders it was given (a cluster exports every run it ends to its state folder). A run is read
 * whole when opened and kept while its length (Redis) or mtime (file) stays the same: the run page's
 * scrubber asks for many points of one run.
 */
export class RunCatalog {
  private readonly cache = new Map<string, { key: string; run: OpenRun }>();
  readonly skipped: SkippedFile[] = [];

  constructor(
    private readonly log: RedisRunLog | undefined,
    private readonly paths: readonly string[],
  ) {}

  /** Exported files under the folders and files given, by the run id their header names (the first found wins). */
  private files(): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of this.paths) {
      if (!existsSync(p)) continue;
      const list = statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.ndjson')).sort().map((f) => join(p, f)) : [p];
      for (const f of list) {
        const path = resolve(f);
        const id = this.runIdOf(path);
        if (id !== undefined && !out.has(id)) out.set(id, path);
      }
    }
    return out;
  }

  private readonly headers = new Map<string, { mtime: number; runId: string | undefined }>();

  /** The run id in a file's header line, read once per version of the file; undefined: not an export. */
  private runIdOf(path: string): string | undefined {
    const mtime = statSync(path).mtimeMs;
    const hit = this.headers.get(path);
    if (hit?.mtime === mtime) return hit.runId;
    let runId: string | undefined;
    try {
      const fd = openSync(path, 'r');
      const buf = Buffer.alloc(HEADER_BYTES);
      const n = readSync(fd, buf, 0, HEADER_BYTES, 0);
      closeSync(fd);
      const line = buf.subarray(0, n).toString('utf8').split('\n', 1)[0]!;
      const id = (JSON.parse(line) as { runId?: unknown }).runId;
      if (typeof id === 'string' && id) runId = id;
      else this.skip(path, 'its first line names no run id: not a vsva-sim export');
    } catch (e) {
      this.skip(path, `its first line is not a vsva-sim export header (${(e as Error).message})`);
    }
    this.headers.set(path, { mtime, runId });
    return runId;
  }

  private skip(path: string, why: string): void {
    if (!this.skipped.some((s) => s.path === path)) this.skipped.push({ path, why });
  }

  async list(): Promise<RunSummary[]> {
    const rows = new Map<string, RunSummary>();
    if (this.log) {
      for (const meta of await this.log.listRuns()) {
        const run = await this.open(meta.runId).catch(() => undefined);
        if (run) rows.set(meta.runId, summaryOf(run));
      }
    }
    for (const [id, path] of this.files()) {
      if (rows.has(id)) continue;
      const run = await this.openFile(path).catch((e: Error) => {
        this.skip(path, e.message);
        return undefined;
      });
      if (run) rows.set(run.meta.runId, summaryOf(run));
    }
    return [...rows.values()].sort((a, b) => b.startedAt - a.startedAt || a.runId.localeCompare(b.runId));
  }

  /** The run, from Redis first, else from a file named after it (or whose header names it). */
  async open(runId: string): Promise<OpenRun> {
    if (this.log) {
      const meta = await this.log.getRunMeta(runId);
      if (meta) {
        const length = await this.log.length(runId);
        const key = `redis:${length}:${meta.status}`;
        const hit = this.cache.get(runId);
        if (hit?.key === key) return hit.run;
        // a live run grows: read what was appended since it was last read, not the whole log again
        const kept = hit?.run.origin.kind === 'redis' && hit.run.entries.length <= length ? hit.run.entries : [];
        const entries = kept.length ? [...kept, ...(await this.log.read(runId, kept.length + 1))] : await this.log.read(runId);
        const run = openRun(meta, { kind: 'redis' }, entries);
        this.cache.set(runId, { key, run });
        return run;
      }
    }
    const path = this.files().get(runId);
    if (!path) throw new UnknownRunError(runId);
    return this.openFile(path);
  }

  private async openFile(path: string): Promise<OpenRun> {
    const key = `file:${path}:${statSync(path).mtimeMs}`;
    const hit = [...this.cache.values()].find((c) => c.key === key);
    if (hit) return hit.run;
    const { header, entries } = await readNdjson(path).catch((e: Error) => {
      throw e instanceof NdjsonError ? new Error(`${path}: ${e.message}`) : e;
    });
    const meta: RunMeta = {
      runId: header.runId, scenario: header.scenario, policy: header.policy, seed: header.seed, engine: header.engine,
      startedAt: header.startedAt ?? header.exportedAt ?? statSync(path).mtimeMs, status: header.status ?? 'finished',
    };
    const run = openRun(meta, { kind: 'file', path }, entries);
    this.cache.set(header.runId, { key, run });
    return run;
  }

  /**
   * A live run's entries after `afterSeq`, and whether it has ended (its meta no longer `running`).
   * A file is whole: everything after `afterSeq`, ended.
   */
  async since(runId: string, afterSeq: number): Promise<{ entries: LogEntry[]; ended: boolean }> {
    if (this.log) {
      const meta = await this.log.getRunMeta(runId);
      if (meta) {
        const entries = await this.log.read(runId, afterSeq + 1);
        return { entries, ended: meta.status !== 'running' && (await this.log.length(runId)) === afterSeq + entries.length };
      }
    }
    const run = await this.open(runId);
    return { entries: run.entries.filter((e) => e.seq > afterSeq), ended: true };
  }
}

export function summaryOf(run: OpenRun): RunSummary {
  const { meta } = run;
  const running = meta.status === 'running';
  const overrides = Object.keys(meta.policy.overrides).length;
  return {
    runId: meta.runId, scenario: meta.scenario.name, policy: overrides ? `${meta.policy.preset} +${overrides}` : meta.policy.preset,
    engine: meta.engine, seed: meta.seed, status: meta.status, verdict: running ? 'running' : run.report.verdict, violations: running ? 0 : run.report.violations.length,
    entries: run.entries.length, startedAt: meta.startedAt, origin: run.origin.kind,
  };
}
