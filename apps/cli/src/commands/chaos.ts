import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PolicyError, resolvePolicy, type ResolvedPolicy } from '../../../../libs/contracts/src/index.js';
import {
  drawRunFaults, embeddedChaosRun, faultsArg, FaultSpecError, parseFaults,
  parseSchedule, ScheduleError,
  type ChaosRunResult, type Engine, type FaultKindName, type FaultSpec, type Finding, type NemesisSchedule,
} from '../../../../libs/chaos/src/index.js';
import { clusterChaosRun } from '../chaos/cluster-chaos-run.js';
import { openChaosCluster } from '../chaos/cluster-chaos.js';
import { keptRunFile, stateDir } from '../cluster-state.js';
import { loadScenario, ScenarioError, type Scenario } from '../../../../libs/scenario/src/index.js';
import { RedisRunLog, writeNdjson } from '../../../../libs/event-log/src/index.js';
import { timelineWithNemesis } from '../../../../libs/engine/src/index.js';
import { usage } from '../errors.js';
import { VERSION } from '../version.js';
import { writeJsonResult } from '../json-output.js';
import { parseSets } from './run.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

export interface ChaosOptions {
  engine: Engine;
  faults: string;
  runs: number;
  seed: number;
  policy: string;
  set: string[];
  json?: boolean;
  out?: string;
  schedule?: string;
  /** print each run's timeline (stderr), the faults in a nemesis lane */
  timeline?: boolean;
  /** stop starting runs after this many seconds (a soak: --runs is then the most it does) */
  duration?: number;
  timeout: number;
  stepTimeout: number;
}

/** The `--json` object (issue 11 point 4). */
export interface ChaosSummary {
  ok: boolean;
  engine: Engine;
  runs: number;
  seed: number;
  faults: Partial<Record<FaultKindName, number>>;
  lost: number;
  duplicated: number;
  replayIdentical: boolean;
  /** runs whose outcome a guest sees differs from the same run without the infrastructure faults */
  differing: number;
  findings: Finding[];
  /** the runs that lost, doubled, diverged or differed: what happened and how to get it again */
  failures: Array<Pick<ChaosRunResult, 'scenario' | 'policy' | 'seed' | 'problems' | 'differences' | 'reproduce'>>;
}

function scenarioFiles(path: string): string[] {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw usage(`${path}: no such scenario file or folder`);
  if (!st.isDirectory()) return [path];
  const files = readdirSync(path).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(path, f));
  if (!files.length) throw usage(`${path}: no scenario (.yaml) in this folder`);
  return files;
}

function load(files: string[]): Array<{ file: string; sc: Scenario }> {
  return files.map((file) => {
    try {
      return { file, sc: loadScenario(file) };
    } catch (e) {
      throw e instanceof ScenarioError ? usage(e.message) : e;
    }
  });
}

export function describeSpec(spec: FaultSpec): string {
  const kinds = (Object.entries(spec.kinds) as Array<[FaultKindName, number | undefined]>).map(([k, p]) => (p === undefined ? k : `${k}=${p}`));
  return `${kinds.join(', ') || 'none'}${spec.swarm ? ' (swarm: each run enables a random subset, with random rates)' : ''}`;
}

/** `vsva-sim chaos`: runs under faults, each checked; exit 0 nothing lost or doubled and no finding, 1 otherwise. */
export async function chaosCommand(target: string, o: ChaosOptions): Promise<number> {
  const scenarios = load(scenarioFiles(target));
  let spec: FaultSpec;
  try {
    spec = parseFaults(o.faults, o.engine);
  } catch (e) {
    throw e instanceof FaultSpecError ? usage(e.message) : e;
  }
  let policy: ResolvedPolicy;
  try {
    policy = resolvePolicy(o.policy, parseSets(o.set));
  } catch (e) {
    throw e instanceof PolicyError ? usage(e.message) : e;
  }
  if (o.out) mkdirSync(o.out, { recursive: true });
  const schedule = o.schedule ? readSchedule(o.schedule, o.engine) : undefined;
  say(`chaos: ${o.duration === undefined ? '' : `up to `}${o.runs} run(s)${o.duration === undefined ? '' : ` or ${o.duration} s`} of ${scenarios.length} scenario(s) in the ${o.engine} engine under ${o.policy}${o.set.length ? ` + ${o.set.join(', ')}` : ''}, seeds ${o.seed}..${o.seed + o.runs - 1}`);
  say(`faults: ${describeSpec(spec)}`);
  // what the summary needs of each run: a soak's thousands of logs are not kept in memory
  const results: Array<Pick<ChaosRunResult, 'ok' | 'lost' | 'duplicated' | 'replayIdentical' | 'differences' | 'findings' | 'scenario' | 'policy' | 'seed' | 'problems' | 'reproduce'>> = [];
  const counts: Partial<Record<FaultKindName, number>> = {};
  let findings = 0;
  const t0 = Date.now();
  const cluster = o.engine === 'cluster' ? await openChaosCluster({ timeoutMs: o.timeout, stepTimeoutMs: o.stepTimeout }) : undefined;
  // a judged run leaves the chaos cluster's Redis (a soak would fill it): a failed one is kept as a file
  const runs = cluster && RedisRunLog.fromUrl(cluster.cfg.redisUrl, { prefix: cluster.cfg.prefix, redis: { maxRetriesPerRequest: 2, commandTimeout: 10_000 } });
  runs?.redis.on('error', () => {});
  try {
    for (let i = 0; i < o.runs; i++) {
      if (o.duration !== undefined && Date.now() - t0 > o.duration * 1000) {
        say(`chaos: --duration ${o.duration} s reached after ${i} run(s): stopping`);
        break;
      }
      const { file, sc } = scenarios[i % scenarios.length]!;
      const seed = o.seed + i;
      const faults = drawRunFaults(spec, seed);
      const sets = o.set.map((s) => ` --set ${s}`).join('');
      const reproduce = `npx vsva-sim chaos ${file} --engine ${o.engine} --policy ${o.policy}${sets} --faults ${faultsArg(faults)} --seed ${seed} --runs 1`;
      let r: ChaosRunResult;
      if (!cluster) r = await embeddedChaosRun({ file, scenario: sc, policy, seed, faults, reproduce });
      else {
        // the nemesis's schedule is kept beside the run's log: --schedule gives it again, replay re-folds the log
        const runId = `chaos-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
        const keptSchedule = join(o.out ?? join(stateDir(), 'chaos'), `${runId}.schedule.json`);
        const c = await clusterChaosRun(cluster, { file, scenario: sc, policy, seed, faults, runId, reproduce: `${reproduce} --schedule ${keptSchedule}` }, {
          stepTimeoutMs: o.stepTimeout, schedule,
          // the nemesis acts for seconds at a time: each action said as it happens
          onFault: (f) => say(`    ⚡ ${f.kind} ${f.target} at log #${f.seq} (+${((f.atMs ?? 0) / 1000).toFixed(1)} s)${f.note ? `: ${f.note}` : ''}`),
        });
        mkdirSync(dirname(keptSchedule), { recursive: true });
        writeFileSync(keptSchedule, `${JSON.stringify(c.schedule, null, 2)}\n`);
        if (!c.ok) {
          const kept = keptRunFile(runId);
          mkdirSync(dirname(kept), { recursive: true });
          await writeNdjson({ runId, scenario: { name: sc.name, file }, policy, seed, engine: 'cluster', startedAt: Date.now(), status: 'finished' }, [...c.entries], kept, VERSION);
        }
        await runs!.deleteRun(runId).catch(() => {});
        r = c;
        if (c.missed) say(`    ${c.missed} action(s) of the schedule came after the run had ended`);
      }
      results.push({ ok: r.ok, lost: r.lost, duplicated: r.duplicated, replayIdentical: r.replayIdentical, differences: r.differences, findings: r.findings, scenario: r.scenario, policy: r.policy, seed, problems: r.problems, reproduce: r.reproduce });
      for (const f of r.injected) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
      findings += r.findings.length;
      if (o.timeline) timelineWithNemesis(r.entries, r.injected).forEach((l) => say(l));
      if (o.out && !r.ok) await writeRun(o.out, r);
      const problems = [
        r.lost ? `LOST ${r.lost}` : '', r.duplicated ? `DOUBLED ${r.duplicated}` : '', r.replayIdentical ? '' : 'REPLAY DIVERGED',
        r.differences.length ? `DIFFERS: ${r.differences[0]}` : '', ...r.findings.map((f) => `FINDING ${f.invariant} (${f.fault})`),
      ].filter(Boolean);
      const total = Object.values(counts).reduce((n, x) => n + x, 0);
      say(`[${i + 1}/${o.runs}] ${sc.name} seed ${seed}: ${r.injected.length} fault(s) [${faultsArg(faults)}]${problems.length ? `  ${problems.join('; ')}` : '  ok'}  (so far: ${total} faults, ${findings} finding(s), ${results.filter((x) => !x.ok).length} run(s) not ok)`);
      if (!r.ok) say(`    reproduce: ${r.reproduce}${cluster ? `\n    replay:    npx vsva-sim replay ${r.report.runId}` : ''}`);
    }
  } finally {
    await runs?.close().catch(() => runs.redis.disconnect());
    await cluster?.close();
  }
  const summary: ChaosSummary = {
    ok: results.every((r) => r.ok), engine: o.engine, runs: results.length, seed: o.seed, faults: counts,
    lost: sum(results, (r) => r.lost), duplicated: sum(results, (r) => r.duplicated), replayIdentical: results.every((r) => r.replayIdentical),
    differing: results.filter((r) => r.differences.length).length, findings: results.flatMap((r) => r.findings),
    failures: results.filter((r) => r.lost || r.duplicated || !r.replayIdentical || r.differences.length)
      .map(({ scenario, policy: p, seed, problems, differences, reproduce }) => ({ scenario, policy: p, seed, problems, differences, reproduce })),
  };
  const secs = (Date.now() - t0) / 1000;
  say('');
  say(`chaos: ${summary.runs} runs in ${secs.toFixed(1)} s (${(summary.runs / Math.max(secs, 0.001)).toFixed(1)} runs/s); faults injected: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  say(`  lost ${summary.lost}, doubled ${summary.duplicated}, replay ${summary.replayIdentical ? 'identical in every run' : 'DIVERGED'}, runs that differ from their fault-free twin: ${summary.differing}, findings: ${findings}`);
  say(summary.ok ? 'ok: nothing lost or doubled, no finding' : 'NOT ok: see the runs above (each with its reproduce line)');
  if (o.json) writeJsonResult(summary);
  return summary.ok ? 0 : 1;
}

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);

/** `--schedule F`: a nemesis schedule (cluster only), checked before anything runs. */
function readSchedule(file: string, engine: Engine): NemesisSchedule {
  if (engine !== 'cluster') throw usage('--schedule is the cluster nemesis\'s: use it with --engine cluster (the embedded engine draws every fault from --seed)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw usage(`--schedule ${file}: ${(e as Error).message}`);
  }
  try {
    return parseSchedule(text, file);
  } catch (e) {
    throw e instanceof ScheduleError ? usage(e.message) : e;
  }
}

/**
 * A failed run, for the reviewer and for the tools: its faulted scenario (`vsva-sim run` takes it), its
 * log (`replay`, `diff` take it), its timeline with the nemesis lane, and its result.
 */
async function writeRun(dir: string, r: ChaosRunResult): Promise<void> {
  const stem = join(dir, `${basename(r.file).replace(/\.ya?ml$/, '')}-s${r.seed}`);
  for (const f of r.findings) f.file = `${stem}.yaml`;
  writeFileSync(`${stem}.yaml`, r.yaml());
  const meta = { runId: r.report.runId, scenario: { name: r.scenario, file: `${stem}.yaml` }, policy: r.policyResolved, seed: r.seed, engine: r.engine, startedAt: 0, status: 'finished' as const };
  await writeNdjson(meta, [...r.entries], `${stem}.ndjson`, VERSION, { exportedAt: null });
  writeFileSync(`${stem}.timeline.txt`, `${timelineWithNemesis(r.entries, r.injected).join('\n')}\n`);
  const { entries: _entries, yaml: _yaml, policyResolved: _p, ...rest } = r;
  writeFileSync(`${stem}.json`, `${JSON.stringify(rest, null, 2)}\n`);
}

