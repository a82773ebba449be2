import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PolicyError, resolvePolicy, type LogEntry, type ResolvedPolicy } from '../../../../libs/contracts/src/index.js';
import type { RunRequest } from '../../../../libs/cluster/src/index.js';
import { openClusterSession } from '../cluster-session.js';
import { autoEngine, keptRunFile } from '../cluster-state.js';
import { withDeadline } from '../process-guard.js';
import { runEmbedded, StepLabels, timelineHeader, timelineLine } from '../../../../libs/engine/src/index.js';
import { buildReport, type RunReport } from '../../../../libs/runtime/src/index.js';
import { loadScenario, ScenarioError, type Scenario } from '../../../../libs/scenario/src/index.js';
import { usage } from '../errors.js';
import { formatReport } from '../format.js';
import { writeJsonResult } from '../json-output.js';
import { VERSION } from '../version.js';
import { withScenarioPolicy } from '../policy-choice.js';

export interface RunOptions {
  policy: string;
  set: string[];
  engine: 'auto' | 'cluster' | 'embedded';
  seed: number;
  /** the embedded scheduler's bias toward its default order (runEmbedded `bias`): what explore and shrink found a finding with */
  bias?: number;
  json?: boolean;
  quiet?: boolean;
  timeout: number;
  stepTimeout: number;
  /** keep a private redis-server's folder */
  keep?: boolean;
  export?: string;
}

/** Human output goes to stderr, always: stdout carries only the `--json` object. */
const say = (s: string) => process.stderr.write(`${s}\n`);

export function parseSets(sets: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sets) {
    const i = s.indexOf('=');
    if (i <= 0) throw usage(`--set expects key=value, got '${s}' (e.g. --set vfio.iommu_device_null_check=false)`);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

export function loadRunInputs(file: string, o: Pick<RunOptions, 'policy' | 'set'>): { scenario: Scenario; policy: ResolvedPolicy } {
  let scenario: Scenario;
  try {
    scenario = loadScenario(file);
  } catch (e) {
    if (e instanceof ScenarioError) throw usage(e.message);
    throw e;
  }
  try {
    return { scenario, policy: resolvePolicy(o.policy, parseSets(o.set)) };
  } catch (e) {
    if (e instanceof PolicyError) throw usage(e.message);
    throw e;
  }
}

export function reproduceCommand(file: string, o: Pick<RunOptions, 'policy' | 'set' | 'seed' | 'bias'>, engine: string): string {
  const sets = o.set.map((s) => ` --set ${s}`).join('');
  return `npx vsva-sim run ${file} --policy ${o.policy}${sets} --engine ${engine} --seed ${o.seed}${o.bias === undefined ? '' : ` --bias ${o.bias}`}`;
}

function printTimeline(o: RunOptions): (es: LogEntry[]) => void {
  if (o.quiet) return () => {};
  say(timelineHeader());
  const labels = new StepLabels();
  return (es) => es.forEach((e) => say(timelineLine(e, labels)));
}

/**
 * `--export` is checked before the run, so that a run is never done for nothing: the folder must
 * exist and be writable, and the path must not be a folder.
 */
export function checkExportPath(path: string): void {
  const dir = dirname(resolve(path));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw usage(`--export ${path}: the folder ${dir} does not exist (create it first; nothing was run)`);
  }
  if (!st.isDirectory()) throw usage(`--export ${path}: ${dir} is not a folder (nothing was run)`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw usage(`--export ${path}: the folder ${dir} is not writable (nothing was run)`);
  }
  let target;
  try {
    target = statSync(path);
  } catch {
    return;
  }
  if (target.isDirectory()) throw usage(`--export ${path}: is a folder; name the file to write, e.g. ${join(path, 'run.ndjson')} (nothing was run)`);
}

export async function runEmbeddedCommand(file: string, scenario: Scenario, policy: ResolvedPolicy, o: RunOptions): Promise<RunReport> {
  const t0 = Date.now();
  // a function of (scenario, policy, seed, version): so is its id, and so is its export, byte for byte
  const runId = `emb-${scenario.name}-${policy.preset}${Object.keys(policy.overrides).length ? '-set' : ''}-s${o.seed}`;
  const run = await runEmbedded({ runId, scenario, policy, seed: o.seed, onEntries: printTimeline(o), ...(o.bias === undefined ? {} : { bias: o.bias, startExtra: { bias: o.bias } }) });
  if (o.export) {
    const { writeNdjson } = await import('../../../../libs/event-log/src/index.js');
    const meta = { runId, scenario: { name: scenario.name, file }, policy, seed: o.seed, engine: 'embedded' as const, startedAt: 0, status: 'finished' as const };
    await writeNdjson(meta, run.entries, o.export, VERSION, { exportedAt: null });
    say(`exported ${run.entries.length} entries to ${o.export}`);
  }
  return buildReport({
    runId, entries: run.entries, scenario: { name: scenario.name, file }, policy, engine: 'embedded', seed: o.seed,
    wallMs: Date.now() - t0, reproduce: reproduceCommand(file, o, 'embedded'), extraStats: { deliveries: run.deliveries },
  });
}

/** One scenario in the cluster engine: attach to (or start) the cluster, run, stop what was started. */
export async function runClusterCommand(file: string, scenario: Scenario, policy: ResolvedPolicy, o: RunOptions, phase: { now: string } = { now: '' }): Promise<RunReport> {
  const t0 = Date.now();
  phase.now = 'connecting to the cluster';
  const session = await openClusterSession({ timeoutMs: o.timeout, stepTimeoutMs: o.stepTimeout, keep: o.keep });
  try {
    const runId = session.newRunId();
    phase.now = `running ${runId}`;
    const req: RunRequest = { runId, scenario, file, policy, seed: o.seed, stepTimeoutMs: o.stepTimeout, reproduce: reproduceCommand(file, o, 'cluster') };
    const report = await session.run(req, printTimeline(o));
    report.stats.clusterStartMs = session.startMs;
    report.stats.wallMs = Date.now() - t0;
    phase.now = `exporting ${runId}`;
    const { exportRun } = await import('../../../../libs/event-log/src/index.js');
    // every cluster run stays replayable by its id, also once its Redis is gone
    const kept = keptRunFile(runId);
    mkdirSync(dirname(kept), { recursive: true });
    await exportRun(session.log, runId, kept, VERSION);
    if (o.export) {
      await exportRun(session.log, runId, o.export, VERSION);
      say(`exported ${report.stats.entries} entries to ${o.export}`);
    }
    return report;
  } finally {
    phase.now = 'stopping what this command started';
    await session.close();
  }
}

export async function runCommand(file: string, o: RunOptions): Promise<number> {
  o = withScenarioPolicy(file, o); // no --policy: the preset the scenario declares, said on stderr
  const { scenario, policy } = loadRunInputs(file, o);
  if (o.export) checkExportPath(o.export);
  let engine = o.engine;
  if (o.bias !== undefined && engine === 'cluster') throw usage('--bias is the embedded scheduler\'s: give --engine embedded (a cluster consumes in whatever order its services run)');
  if (engine === 'auto' && o.bias !== undefined) engine = 'embedded';
  if (engine === 'auto') {
    engine = autoEngine();
    say(`engine auto: ${engine === 'cluster' ? 'Redis is configured, using the cluster' : 'no REDIS_URL and no running cluster, using the embedded engine (--engine cluster starts one)'}`);
  }
  const phase = { now: 'starting' };
  const report = engine === 'cluster'
    ? await withDeadline(o.timeout, () => phase.now, () => runClusterCommand(file, scenario, policy, o, phase))
    : await runEmbeddedCommand(file, scenario, policy, o);
  say(formatReport(report));
  const survived = (report as { infrastructure?: { outages: string[] } }).infrastructure?.outages;
  if (survived?.length) say(`infrastructure: the run survived ${survived.length} outage(s): ${survived.join('; ')}`);
  if (o.json) writeJsonResult(report);
  return report.verdict === 'pass' ? 0 : 1;
}
