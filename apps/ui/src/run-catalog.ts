import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LogEntry } from '../../../libs/contracts/src/index.js';
import { NdjsonError, openNdjson, readNdjson, type RedisRunLog, type RunMeta } from '../../../libs/event-log/src/index.js';
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

/** Runs kept read whole (the scrubber asks for many points of one run); the run list keeps only summaries. */
const OPEN_RUNS = 16;

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
 * whole when opened, and the last few opened are kept while their length (Redis) or mtime (file) stays
 * the same: the run page's scrubber asks for many points of one run. The list keeps each run's row.
 */
export class RunCatalog {
  /** runs read whole, by run id, with what they were read for (redisKey, fileKey) */
  private readonly runs = new Map<string, { key: string; run: OpenRun }>();
  private readonly summaries = new Map<string, { key: string; summary: RunSummary }>();
  readonly skipped: SkippedFile[] = [];

  constructor(
    private readonly log: RedisRunLog | undefined,
    private readonly paths: readonly string[],
  ) {}

  /** Exported files under the folders and files given, by the run id their header names (the first found wins). */
  private async files(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const p of this.paths) {
      if (!existsSync(p)) continue;
      const list = statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.ndjson')).sort().map((f) => join(p, f)) : [p];
      for (const f of list) {
        const path = resolve(f);
        const id = await this.runIdOf(path);
        if (id !== undefined && !out.has(id)) out.set(id, path);
      }
    }
    return out;
  }

  private readonly headers = new Map<string, { mtime: number; runId: string | undefined }>();

  /** The run id in a file's header (checked as `import` checks it), read once per version of the file; undefined: not an export. */
  private async runIdOf(path: string): Promise<string | undefined> {
    const mtime = statSync(path).mtimeMs;
    const hit = this.headers.get(path);
    if (hit?.mtime === mtime) return hit.runId;
    let runId: string | undefined;
    try {
      const reader = await openNdjson(path);
      reader.close();
      runId = reader.header.runId;
    } catch (e) {
      this.skip(path, (e as Error).message);
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
        const { key } = await this.redisKey(meta);
        const row = await this.summary(meta.runId, key, `run ${meta.runId} in Redis`, () => this.open(meta.runId));
        if (row) rows.set(meta.runId, row);
      }
    }
    for (const [id, path] of await this.files()) {
      if (rows.has(id)) continue;
      const row = await this.summary(id, fileKey(path), path, () => this.openFile(path, id));
      if (row) rows.set(id, row);
    }
    return [...rows.values()].sort((a, b) => b.startedAt - a.startedAt || a.runId.localeCompare(b.runId));
  }

  /** A run's row, kept while its key holds; a run that cannot be read is left out, and said in `skipped`. */
  private async summary(runId: string, key: string, where: string, open: () => Promise<OpenRun>): Promise<RunSummary | undefined> {
    const kept = this.summaries.get(runId);
    if (kept?.key === key) return kept.summary;
    const run = await open().catch((e: Error) => {
      this.skip(where, e.message);
      return undefined;
    });
    if (!run) return undefined;
    const summary = summaryOf(run);
    this.summaries.set(runId, { key, summary });
    return summary;
  }

  /** A run in Redis is read again when it grew or its status changed: its length, and that as a key. */
  private async redisKey(meta: RunMeta): Promise<{ key: string; length: number }> {
    const length = await this.log!.length(meta.runId);
    return { key: `redis:${length}:${meta.status}`, length };
  }

  /** The last OPEN_RUNS runs opened stay read (least recently used first out). */
  private keep(runId: string, key: string, run: OpenRun): OpenRun {
    this.runs.delete(runId);
    this.runs.set(runId, { key, run });
    for (const old of this.runs.keys()) {
      if (this.runs.size <= OPEN_RUNS) break;
      this.runs.delete(old);
    }
    return run;
  }

  /** The run, from Redis first, else from an exported file whose header names it. */
  async open(runId: string): Promise<OpenRun> {
    if (this.log) {
      const meta = await this.log.getRunMeta(runId);
      if (meta) {
        const { key, length } = await this.redisKey(meta);
        const hit = this.runs.get(runId);
        if (hit?.key === key) return this.keep(runId, key, hit.run);
        // a live run grows: read what was appended since it was last read, not the whole log again
        const kept = hit?.run.origin.kind === 'redis' && hit.run.entries.length <= length ? hit.run.entries : [];
        const more = await this.log.read(runId, kept.length + 1);
        return this.keep(runId, key, openRun(meta, { kind: 'redis' }, kept.length ? [...kept, ...more] : more));
      }
    }
    const path = (await this.files()).get(runId);
    if (!path) throw new UnknownRunError(runId);
    return this.openFile(path, runId);
  }

  private async openFile(path: string, runId: string): Promise<OpenRun> {
    const key = fileKey(path);
    const hit = this.runs.get(runId);
    if (hit?.key === key) return this.keep(runId, key, hit.run);
    const { header, entries } = await readNdjson(path).catch((e: Error) => {
      throw e instanceof NdjsonError ? new Error(`${path}: ${e.message}`) : e;
    });
    const meta: RunMeta = {
      runId: header.runId, scenario: header.scenario, policy: header.policy, seed: header.seed, engine: header.engine,
      startedAt: header.startedAt ?? header.exportedAt ?? statSync(path).mtimeMs, status: header.status ?? 'finished',
    };
    return this.keep(runId, key, openRun(meta, { kind: 'file', path }, entries));
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

/** A file is read again when it changed. */
const fileKey = (path: string) => `file:${path}:${statSync(path).mtimeMs}`;

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
