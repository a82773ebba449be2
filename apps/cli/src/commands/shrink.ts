import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { checkHistory, type Violation } from '../../../../libs/checkers/src/index.js';
import { PolicyError, resolvePolicy, type LogEntry, type ResolvedPolicy } from '../../../../libs/contracts/src/index.js';
import { runEmbedded } from '../../../../libs/engine/src/index.js';
import { formatSizes, NotReproducedError, policyLabel, shrinkScenario, type Progress, type ShrinkResult } from '../../../../libs/explore/src/index.js';
import { ScenarioSchema, type Scenario } from '../../../../libs/scenario/src/index.js';
import { stateDir } from '../cluster-state.js';
import { usage } from '../errors.js';
import { writeJsonResult } from '../json-output.js';
import { withScenarioPolicy } from '../policy-choice.js';
import { VERSION } from '../version.js';
import { openRunSource } from './log-source.js';
import { loadRunInputs } from './run.js';

export interface ShrinkCommandOptions {
  invariant?: string;
  policy?: string;
  set: string[];
  seed?: number;
  out?: string;
  maxRuns: number;
  json?: boolean;
}

const say = (s: string) => process.stderr.write(`${s}\n`);

/** A shrunk file has no `expect:`: what the expectations checker says cannot be kept. */
const EXPECTATIONS = 'expected-outcome';

/** What is shrunk: the scenario, policy and schedule, and the violations of the run it names. */
interface Finding {
  source: string;
  scenario: Scenario;
  policy: ResolvedPolicy;
  seed: number;
  bias?: number;
  violations: Violation[];
}

/** A scenario file: the policy and seed from the flags, as `vsva-sim run` chooses them; its run's violations. */
async function fromScenarioFile(file: string, o: ShrinkCommandOptions): Promise<Finding> {
  const chosen = withScenarioPolicy(file, { policy: o.policy, set: o.set });
  const { scenario, policy } = loadRunInputs(file, chosen);
  const seed = o.seed ?? 1;
  const { entries } = await runEmbedded({ runId: 'shrink-input', scenario, policy, seed, hash: false });
  return { source: file, scenario, policy, seed, violations: checkHistory(entries).violations };
}

/** A recorded run: the scenario, policy, seed (and bias) its run.start recorded; the log's own violations. */
async function fromLog(arg: string, o: ShrinkCommandOptions): Promise<Finding> {
  if (o.policy || o.set.length || o.seed !== undefined) {
    throw usage(`${arg} is a recorded run: its scenario, policy and seed are the ones its run.start recorded (--policy, --set and --seed are for a scenario file)`);
  }
  const src = await openRunSource(arg);
  let entries: LogEntry[];
  try {
    entries = await src.all();
  } finally {
    await src.close();
  }
  const first = entries[0];
  const start = first?.kind === 'input' && first.type === 'run.start' ? ((first.payload as { payload?: Record<string, unknown> }).payload ?? {}) : undefined;
  if (!start) throw usage(`${arg}: the log does not begin with run.start: no scenario to shrink`);
  const parsed = ScenarioSchema.safeParse(start.scenario);
  if (!parsed.success) throw usage(`${arg}: the scenario its run.start recorded is not valid today: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const p = start.policy as { preset?: string; overrides?: Record<string, string | number | boolean> } | undefined;
  let policy: ResolvedPolicy;
  try {
    policy = resolvePolicy(String(p?.preset), p?.overrides ?? {});
  } catch (e) {
    if (e instanceof PolicyError) throw usage(`${arg}: the policy its run.start recorded: ${e.message}`);
    throw e;
  }
  const seed = typeof start.seed === 'number' ? start.seed : 1;
  const bias = typeof start.bias === 'number' ? start.bias : undefined;
  return { source: arg, scenario: parsed.data, policy, seed, ...(bias === undefined ? {} : { bias }), violations: checkHistory(entries).violations };
}

/** The invariant to keep: the one named, else the one the run broke first (in log order). */
function pickInvariant(f: Finding, named: string | undefined): string {
  const broken = f.violations.filter((v) => v.invariant !== EXPECTATIONS).sort((a, b) => Math.min(...a.events) - Math.min(...b.events));
  const names = [...new Set(broken.map((v) => v.invariant))];
  const under = `under ${policyLabel(f.policy)} with seed ${f.seed}${f.bias === undefined ? '' : ` and bias ${f.bias}`}`;
  if (named === EXPECTATIONS) throw usage(`--invariant ${EXPECTATIONS}: a shrunk file has no expect: fields; name an invariant the run breaks${names.length ? ` (${names.join(', ')})` : ''}`);
  if (!names.length) {
    const expectations = f.violations.length ? ` (only its expect: fields fail: ${f.violations.length} step(s) not as expected)` : '';
    throw usage(`${f.source} breaks no invariant ${under}${expectations}: nothing to shrink`);
  }
  if (named && !names.includes(named)) throw usage(`${f.source} does not break ${named} ${under}; it breaks ${names.join(', ')}`);
  return named ?? names[0]!;
}

/** Progress on stderr: at each new dimension, and every 100 runs. */
function progress(): (p: Progress) => void {
  let dimension = '';
  return (p) => {
    if (p.dimension === dimension && p.runs % 100) return;
    dimension = p.dimension;
    say(`shrink: ${p.runs} runs, ${p.dimension}: ${Object.entries(p.size).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  };
}

const shown = (path: string) => {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path;
};

/**
 * A shrunk finding's files in `out`: scenario.yaml and its run's log run.ndjson (replay and diff read
 * it), and the command that runs it again (vsva-sim run picks the policy from the file's verdicts).
 */
export async function writeShrunk(r: ShrinkResult, out: string, policy: ResolvedPolicy, runId: string): Promise<{ scenarioFile: string; logFile: string; reproduce: string }> {
  const scenarioFile = join(out, 'scenario.yaml');
  const logFile = join(out, 'run.ndjson');
  writeFileSync(scenarioFile, r.yaml);
  const { writeNdjson } = await import('../../../../libs/event-log/src/index.js');
  const meta = { runId, scenario: { name: r.scenario.name, file: scenarioFile }, policy, seed: r.seed, engine: 'embedded' as const, startedAt: 0, status: 'finished' as const };
  await writeNdjson(meta, r.entries, logFile, VERSION, { exportedAt: null });
  const reproduce = `npx vsva-sim run ${shown(scenarioFile)} --engine embedded${r.seed === 1 ? '' : ` --seed ${r.seed}`}${r.bias === undefined ? '' : ` --bias ${r.bias}`}`;
  return { scenarioFile, logFile, reproduce };
}

/** `vsva-sim shrink`: the smallest scenario that still breaks the invariant, written with its run's log. */
export async function shrinkCommand(input: string, o: ShrinkCommandOptions): Promise<number> {
  const t0 = Date.now();
  const f = /\.ya?ml$/i.test(input) ? await fromScenarioFile(input, o) : await fromLog(input, o);
  const invariant = pickInvariant(f, o.invariant);
  const out = o.out ?? join(stateDir(), 'shrink', f.scenario.name);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw usage(`--out ${out}: cannot create the folder: ${(e as Error).message}`);
  }
  say(`shrink ${f.source}: ${invariant} under ${policyLabel(f.policy)}, seed ${f.seed}${f.bias === undefined ? '' : `, bias ${f.bias}`}, at most ${o.maxRuns} runs`);
  let r;
  try {
    r = await shrinkScenario(f.scenario, {
      policy: f.policy, seed: f.seed, bias: f.bias, invariant, maxRuns: o.maxRuns, onProgress: progress(), source: f.source, runId: `shrink-${f.scenario.name}`,
    });
  } catch (e) {
    // a recorded run whose interleaving the embedded engine does not make again (a cluster run's)
    if (e instanceof NotReproducedError) throw usage(`${e.message}: the embedded engine does not reproduce it`);
    throw e;
  }
  const { scenarioFile, logFile, reproduce } = await writeShrunk(r, out, f.policy, `shrink-${f.scenario.name}`);
  const wallMs = Date.now() - t0;
  say(`shrunk ${f.source} (${invariant}): ${formatSizes(r.before, r.after)}; ${r.runs} runs in ${(wallMs / 1000).toFixed(1)} s`);
  if (r.budgetHit) say(`stopped at --max-runs ${o.maxRuns}: the result is the smallest found so far`);
  say(`wrote ${shown(scenarioFile)} and ${shown(logFile)}`);
  say(`reproduce: ${reproduce}`);
  if (o.json) {
    writeJsonResult({
      ok: true, input: f.source, invariant, policy: { preset: f.policy.preset, overrides: f.policy.overrides }, seed: r.seed, ...(r.bias === undefined ? {} : { bias: r.bias }),
      before: r.before, after: r.after, runs: r.runs, budgetHit: r.budgetHit, wallMs, scenarioFile, logFile, reproduce, violations: r.violations,
    });
  }
  return 0;
}
