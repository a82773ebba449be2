import { PolicyError, resolvePolicy } from '../../../../libs/contracts/src/index.js';
import { FaultSpecError, parseFaults, type FaultSpec } from '../../../../libs/chaos/src/index.js';
import {
  explore, ExploreStore, ExploreWorkerError, findingSlug, formatSizes, inlinePool, loadQuirks, newState, NotReproducedError, processPool, QuirkFileError, quirkOf, redisPool, shrinkScenario, signatureOf, StoreError,
  type ExploreState, type ExploreStatus, type Finding, type Quirk, type RunPool,
} from '../../../../libs/explore/src/index.js';
import { join } from 'node:path';
import { stateDir } from '../cluster-state.js';
import { infra, usage } from '../errors.js';
import { RedisUnavailableError } from '../../../../libs/redis/src/index.js';
import { isClusterUrl } from '../../../../libs/config/src/index.js';
import { writeJsonResult } from '../json-output.js';
import { parseSets, reproduceCommand } from './run.js';
import { writeShrunk } from './shrink.js';
import type { Violation } from '../../../../libs/checkers/src/index.js';
import type { LogEntry } from '../../../../libs/contracts/src/index.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

export interface ExploreOptions {
  policy: string;
  set: string[];
  budget: string;
  seed: number;
  workers: number;
  /** run on explore-workers over this Redis instead of processes here */
  redis?: string;
  faults?: string;
  out?: string;
  json?: boolean;
  uniform?: boolean;
  quirks?: string;
  /** shrink each new finding (default; --no-shrink) */
  shrink: boolean;
  /** bound on one shrink's runs */
  shrinkRuns: number;
}

/** `--budget`: a number of runs (`2000`, `2000runs`) or a time (`60s`, `5m`, `1h`, `500ms`). */
export function parseBudget(text: string): { runs?: number; ms?: number } {
  const runs = /^(\d+)\s*(runs?)?$/.exec(text.trim());
  if (runs && Number(runs[1]) > 0) return { runs: Number(runs[1]) };
  const time = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(text.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (time && Number(time[1]) > 0) return { ms: Number(time[1]) * unit[time[2] as keyof typeof unit] };
  throw usage(`--budget '${text}': give a number of runs (2000) or a time (60s, 5m, 1h)`);
}

/** The status line, VOPR's way: rewritten in place on a terminal, a line every 10 s otherwise. */
function statusPrinter(json: boolean) {
  const tty = process.stderr.isTTY && !json;
  let last = 0;
  return (s: ExploreStatus, force = false) => {
    const now = Date.now();
    if (!force && now - last < (tty ? 200 : 10_000)) return;
    last = now;
    const rate = s.elapsedMs ? (s.runs * 1000) / s.elapsedMs : 0;
    const line = `explore: ${s.runs} runs  ${rate.toFixed(0)} runs/s  coverage ${s.coverage}  corpus ${s.corpus}  findings ${s.findings}${s.errors ? `  simulator errors ${s.errors}` : ''}`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  };
}

/** How `vsva-sim run` runs a finding's scenario again: the exploration's policy, the run's seed and scheduler bias. */
const reproduceOf = (file: string, policy: ExploreState['policy'], seed: number, bias?: number): string =>
  reproduceCommand(file, { policy: policy.preset, set: Object.entries(policy.set).map(([k, v]) => `${k}=${v}`), seed, bias }, 'embedded');

/** `vsva-sim explore`: exit 0 no finding, 1 findings (new or carried over from the folder). */
export async function exploreCommand(o: ExploreOptions): Promise<number> {
  // everything checked before anything runs: exit 2 on bad input
  const budget = parseBudget(o.budget);
  if (o.workers < 1) throw usage('--workers must be 1 or more (1: this process)');
  if (o.redis && o.workers > 1) throw usage('--workers and --redis: pick one (explore-workers take --concurrency on their own machines)');
  if (o.redis && isClusterUrl(o.redis)) throw usage('--redis: the explorations\' queue lives on one Redis server, not a Redis Cluster: give a redis:// URL');
  const set = parseSets(o.set);
  try {
    resolvePolicy(o.policy, set);
  } catch (e) {
    throw e instanceof PolicyError ? usage(e.message) : e;
  }
  let faults: FaultSpec | undefined;
  try {
    faults = o.faults ? parseFaults(o.faults, 'embedded') : undefined;
  } catch (e) {
    throw e instanceof FaultSpecError ? usage(e.message) : e;
  }
  let quirks: Quirk[];
  try {
    quirks = loadQuirks(o.quirks);
  } catch (e) {
    throw e instanceof QuirkFileError ? usage(e.message) : e;
  }
  const out = o.out ?? join(stateDir(), 'explore');
  const store = new ExploreStore(out);
  const policy = { preset: o.policy, set };
  const mode = o.uniform ? 'uniform' : 'guided';
  let st: ExploreState;
  try {
    st = store.load() ?? newState(o.seed, policy, mode, o.faults);
  } catch (e) {
    throw e instanceof StoreError || e instanceof SyntaxError ? usage(`${out}: ${e.message}`) : e;
  }
  const mine = JSON.stringify([o.seed, policy, mode, o.faults ?? null]);
  if (JSON.stringify([st.seed, st.policy, st.mode, st.faults ?? null]) !== mine) {
    throw usage(`${out} holds an exploration of seed ${st.seed} under ${st.policy.preset}${Object.keys(st.policy.set).length ? ` + ${JSON.stringify(st.policy.set)}` : ''} (${st.mode}${st.faults ? `, faults ${st.faults}` : ''}): continue it with the same flags, or give another --out`);
  }
  const carried = st.findings.size;
  say(`explore: ${budget.runs ? `${budget.runs} runs` : `${budget.ms! / 1000} s`} under ${o.policy}${o.set.length ? ` + ${o.set.join(', ')}` : ''}, seed ${o.seed}, ${mode === 'uniform' ? 'uniform random generation (no swarm, no coverage guidance)' : 'swarm + coverage guidance'}${faults ? `, faults ${o.faults}` : ''}; folder ${out}${st.next ? ` (continuing at run ${st.next}: ${st.corpus.length} corpus programs, ${carried} finding(s) so far)` : ''}`);

  const ac = new AbortController();
  // the batch in flight finishes (the workers ignore Ctrl-C and leave with this process), then the
  // state is saved: every finding is already on disk, written as it was found
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    say(`\nexplore: ${sig}: finishing the batch in flight and saving (again to quit now)`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const print = statusPrinter(!!o.json);
  const fresh: Finding[] = [];
  const runner = await openPool(o);
  let status: ExploreStatus;
  try {
    status = await explore(st, {
      pool: runner, budget, faults, quirks, signal: ac.signal,
      onStatus: (s) => print(s),
      onCorpus: (sc, index) => store.addCorpus(sc, index),
      onBatch: (s) => store.save(s),
      onFinding: (f) => {
        fresh.push(f);
        f.files = store.writeFinding(f);
        f.reproduce = reproduceOf(f.files.original, f.policy, f.seed, f.bias);
        print({ runs: f.foundAfterRuns, elapsedMs: f.foundAfterS * 1000, coverage: st.coverage.size, corpus: st.corpus.length, findings: st.findings.size, errors: 0 }, true);
        say(`\n  ✗ ${f.key} (run ${f.index}, after ${f.foundAfterRuns} runs, ${f.foundAfterS.toFixed(1)} s): ${f.message}`);
      },
    });
  } catch (e) {
    // a worker process or the workers' Redis gone: infrastructure, whatever the runs found so far is on disk
    if (e instanceof ExploreWorkerError || e instanceof RedisUnavailableError) throw infra(`explore: ${e.message} (the ${st.findings.size} finding(s) so far are in ${out}; the same command continues)`);
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runner.close();
  }
  print(status, true);
  if (process.stderr.isTTY && !o.json) say('');
  store.save(st);
  // each new finding shrunk to the smallest scenario that breaks the same invariant at the same place
  if (o.shrink && !ac.signal.aborted) for (const f of fresh) await shrinkFinding(f, store, o.shrinkRuns, quirks);
  const all = [...st.findings.values()];
  for (const f of all) f.reproduce ??= f.files ? (f.shrunk ? reproduceOf(f.files.scenario, f.policy, f.shrunk.seed, f.shrunk.bias) : reproduceOf(f.files.original, f.policy, f.seed, f.bias)) : undefined;
  report(all, st, status, out, !!o.json);
  return all.length ? 1 : 0;
}

async function shrinkFinding(f: Finding, store: ExploreStore, maxRuns: number, quirks: readonly Quirk[]): Promise<void> {
  const t0 = Date.now();
  const policy = resolvePolicy(f.policy.preset, f.policy.set);
  // the same invariant at the same place, and not a documented quirk there (one signature can hold both)
  const holds = (vs: Violation[], entries: LogEntry[]) => vs.some((v) => {
    const signature = signatureOf(v, entries);
    return v.invariant === f.invariant && signature === f.signature && !quirkOf(quirks, { ...v, signature }, f.policy.preset);
  });
  try {
    const r = await shrinkScenario(f.scenario, {
      policy, seed: f.seed, bias: f.bias, invariant: f.invariant, holds, maxRuns, source: `exploration run ${f.index}`, runId: `explore-${findingSlug(f)}`,
    });
    const dir = join(store.dir, 'findings', findingSlug(f));
    const files = await writeShrunk(r, dir, policy, `explore-${findingSlug(f)}`);
    f.shrunk = { scenario: r.scenario, steps: r.after.steps, seed: r.seed, ...(r.bias === undefined ? {} : { bias: r.bias }), runs: r.runs };
    f.reproduce = files.reproduce;
    f.files = store.writeFinding(f, { shrunkYaml: r.yaml });
    say(`  shrunk ${f.key}: ${formatSizes(r.before, r.after)} in ${r.runs} runs, ${((Date.now() - t0) / 1000).toFixed(1)} s${r.budgetHit ? ` (stopped at ${maxRuns} runs)` : ''}`);
  } catch (e) {
    // the finding stays, with its original program: reported, not shrunk
    if (!(e instanceof NotReproducedError)) throw e;
    say(`  ${f.key}: not shrunk: ${e.message}`);
  }
}

/** Who runs the simulations: this process, `--workers` processes here, or explore-workers over `--redis`. */
async function openPool(o: ExploreOptions): Promise<RunPool> {
  try {
    if (o.redis) {
      say(`explore: runs go to the explore-workers on ${o.redis} (start them with: vsva-sim explore-worker --redis ${o.redis})`);
      return await redisPool(o.redis);
    }
    return o.workers > 1 ? processPool(o.workers) : inlinePool();
  } catch (e) {
    if (e instanceof RedisUnavailableError) throw infra(`--redis ${o.redis}: ${e.message}`);
    if (e instanceof ExploreWorkerError) throw infra(e.message);
    throw e;
  }
}

function report(all: Finding[], st: ExploreState, s: ExploreStatus, out: string, json: boolean): void {
  const rate = s.elapsedMs ? (s.runs * 1000) / s.elapsedMs : 0;
  say(`explore: ${s.runs} runs in ${(s.elapsedMs / 1000).toFixed(1)} s (${rate.toFixed(0)} runs/s; ${st.next} in this folder), coverage ${st.coverage.size}, corpus ${st.corpus.length}, ${all.length} finding(s)${st.quirks.size ? `, ${[...st.quirks.values()].reduce((a, b) => a + b, 0)} run(s) showing a documented quirk` : ''}`);
  for (const f of all) {
    say(`  ✗ ${f.key}: ${f.message.split('\n')[0]}`);
    say(`      found by run ${f.index} (seed ${f.seed}) after ${f.foundAfterRuns} runs; ${f.hits} run(s) showed it; ${f.shrunk ? `shrunk to ${f.shrunk.steps} step(s)` : `${f.scenario.steps.length} step(s), not shrunk`}: ${join(out, 'findings', findingSlug(f))}/`);
    if (f.reproduce) say(`      ${f.reproduce}`);
  }
  if (json) {
    writeJsonResult({
      ok: all.length === 0, policy: st.policy, seed: st.seed, mode: st.mode, out,
      runs: s.runs, runsInFolder: st.next, elapsedMs: s.elapsedMs, runsPerSec: Number(rate.toFixed(1)), coverage: st.coverage.size, corpus: st.corpus.length,
      findings: all.map((f) => ({
        invariant: f.invariant, signature: f.signature, message: f.message, index: f.index, seed: f.seed, bias: f.bias, policy: f.policy, hits: f.hits,
        foundAfterRuns: f.foundAfterRuns, foundAfterS: f.foundAfterS, steps: f.scenario.steps.length, shrunkSteps: f.shrunk?.steps, files: f.files, reproduce: f.reproduce,
      })),
      quirks: Object.fromEntries(st.quirks),
      simulatorErrors: s.errors,
    });
  }
}
