import pLimit from 'p-limit';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePolicy, type ResolvedPolicy } from '../../../../libs/contracts/src/index.js';
import type { RunReport } from '../../../../libs/runtime/src/index.js';
import type { Violation } from '../../../../libs/checkers/src/index.js';
import { declaredRuns, loadScenario, runLabel, ScenarioError, type PolicySet, type Scenario } from '../../../../libs/scenario/src/index.js';
import { openClusterSession, type ClusterSession } from '../cluster-session.js';
import { autoEngine } from '../cluster-state.js';
import { usage } from '../errors.js';
import { reproduceCommand, runEmbeddedCommand, type RunOptions } from './run.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

interface Side {
  preset: string;
  set?: PolicySet;
  verdict: 'pass' | 'fail';
  violations: Violation[];
  runId: string;
}
export interface CorpusRow {
  file: string;
  bug: { id: number; title: string; ref: string } | null;
  invariant: string | null;
  buggy: Side | null;
  fixed: Side | null;
  /** runs declared by `verdicts:` beyond the bug's two (a preset with overrides: `set`) */
  runs: Array<Side & { expected: 'pass' | 'fail' }>;
  ok: boolean;
}

function files(dir: string): string[] {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw usage(`${dir}: not a folder of scenarios`);
  return readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort().map((f) => join(dir, f));
}

/** Runs every scenario under its declared policies; exit 0 when each behaves as declared. */
export async function corpusCommand(dir: string, o: { engine: 'auto' | 'cluster' | 'embedded'; json?: boolean; timeout: number; jobs?: number }): Promise<number> {
  const scenarios = files(dir).map((file) => {
    try {
      return { file, sc: loadScenario(file) };
    } catch (e) {
      throw e instanceof ScenarioError ? usage(e.message) : e;
    }
  });
  let engine = o.engine;
  if (engine === 'auto') engine = autoEngine();
  const jobs = o.jobs ?? 1;
  if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= 64)) throw usage(`--jobs must be from 1 to 64, got ${jobs}`);
  if (jobs > 1 && engine !== 'cluster') throw usage('--jobs runs several runs at once on a cluster (its replicas share them out): add --engine cluster');
  const session: ClusterSession | undefined = engine === 'cluster' ? await openClusterSession({ timeoutMs: o.timeout, stepTimeoutMs: 15_000 }) : undefined;
  // one task per (scenario, declared run), started `jobs` at a time; the table keeps the corpus's order
  const rows: CorpusRow[] = scenarios.map(({ file, sc }) => ({ file, bug: sc.bug ? { id: sc.bug.id, title: sc.bug.title, ref: sc.bug.ref } : null, invariant: sc.bug?.invariant ?? null, buggy: null, fixed: null, runs: [], ok: true }));
  const tasks = scenarios.flatMap(({ file, sc }, i) => declaredRuns(sc).map((d) => ({ i, file, sc, d })));
  const sides: Array<{ side: Side; asDeclared: boolean } | undefined> = [];
  try {
    let done = 0;
    const limit = pLimit(jobs);
    await Promise.all(tasks.map(({ file, sc, d }, t) => limit(async () => {
      const policy: ResolvedPolicy = resolvePolicy(d.preset, d.set);
      const report = await runOne(session, file, sc, policy, o.timeout);
      const side: Side = { preset: d.preset, ...(Object.keys(d.set).length ? { set: d.set } : {}), verdict: report.verdict, violations: report.violations, runId: report.runId };
      const asDeclared = d.role === 'buggy'
        ? report.verdict === 'fail' && report.violations.some((v) => v.invariant === sc.bug!.invariant)
        : report.verdict === d.verdict;
      sides[t] = { side, asDeclared };
      say(`[${++done}/${tasks.length}] ${sc.name} under ${d.label}: ${report.verdict}${asDeclared ? '' : '  NOT AS DECLARED'}`);
    })));
  } finally {
    await session?.close();
  }
  for (const [t, { i, d }] of tasks.entries()) {
    const { side, asDeclared } = sides[t]!;
    const row = rows[i]!;
    row.ok &&= asDeclared;
    if (d.role === 'buggy') row.buggy = side;
    else if (d.role === 'fixed') row.fixed = side;
    else row.runs.push({ ...side, expected: d.verdict });
  }
  printTable(rows, engine);
  const ok = rows.every((r) => r.ok);
  if (o.json) process.stdout.write(`${JSON.stringify({ ok, engine, scenarios: rows })}\n`);
  return ok ? 0 : 1;
}

async function runOne(session: ClusterSession | undefined, file: string, sc: Scenario, policy: ResolvedPolicy, timeout: number): Promise<RunReport> {
  // the run's overrides go into its reproduce command, as `--set` would give them
  const set = Object.entries(policy.overrides).map(([k, v]) => `${k}=${v}`);
  const opts: RunOptions = { policy: policy.preset, set, engine: 'embedded', seed: 1, quiet: true, timeout, stepTimeout: 15_000 };
  if (!session) return runEmbeddedCommand(file, sc, policy, opts);
  const runId = session.newRunId();
  return session.run({ runId, scenario: sc, file, policy, seed: 1, reproduce: reproduceCommand(file, opts, 'cluster') });
}

function printTable(rows: CorpusRow[], engine: string): void {
  const v = (s: Side | null) => (s ? `${s.verdict} (${s.preset}${s.set ? ` + ${Object.entries(s.set).map(([k, x]) => `${k}=${x}`).join(', ')}` : ''})` : '—');
  const label = (s: Side) => runLabel(s.preset, s.set);
  say('');
  say(`corpus (${engine} engine): ${rows.length} scenarios`);
  say(`${'scenario'.padEnd(40)} ${'invariant'.padEnd(21)} ${'as declared'.padEnd(12)} buggy → fixed`);
  for (const r of rows) {
    const name = r.file.split('/').pop()!.replace(/\.ya?ml$/, '');
    const extra = r.runs.length ? `  ${r.runs.map((x) => `${label(x)}:${x.verdict}`).join(' ')}` : '';
    const sides = r.buggy || r.fixed ? `${v(r.buggy)} → ${v(r.fixed)}` : '';
    say(`${name.padEnd(40)} ${(r.invariant ?? '—').padEnd(21)} ${(r.ok ? 'yes' : 'NO').padEnd(12)} ${sides}${extra}`);
  }
}
