import { PolicyError, resolvePolicy } from '../../../../libs/contracts/src/index.js';
import { FaultSpecError, parseFaults, type FaultSpec } from '../../../../libs/chaos/src/index.js';
import {
  explore, ExploreStore, findingSlug, inlinePool, loadQuirks, newState, QuirkFileError, StoreError,
  type ExploreState, type ExploreStatus, type Finding, type RunPool,
} from '../../../../libs/explore/src/index.js';
import { join } from 'node:path';
import { stateDir } from '../cluster-state.js';
import { usage } from '../errors.js';
import { writeJsonResult } from '../json-output.js';
import { parseSets } from './run.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

export interface ExploreOptions {
  policy: string;
  set: string[];
  budget: string;
  seed: number;
  workers: number;
  faults?: string;
  out?: string;
  json?: boolean;
  uniform?: boolean;
  quirks?: string;
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

function reproduceOf(file: string, policy: ExploreState['policy'], seed: number): string {
  const sets = Object.entries(policy.set).map(([k, v]) => ` --set ${k}=${v}`).join('');
  return `npx vsva-sim run ${file} --policy ${policy.preset}${sets} --engine embedded --seed ${seed}`;
}

/** `vsva-sim explore`: exit 0 no finding, 1 findings (new or carried over from the folder). */
export async function exploreCommand(o: ExploreOptions, pool: () => Promise<RunPool> = async () => inlinePool()): Promise<number> {
  // everything checked before anything runs: exit 2 on bad input
  const budget = parseBudget(o.budget);
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
  let quirks;
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
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130);
    say('\nexplore: interrupted: finishing the batch in flight and saving (Ctrl-C again to quit now)');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  const print = statusPrinter(!!o.json);
  const runner = await pool();
  let status: ExploreStatus;
  try {
    status = await explore(st, {
      pool: runner, budget, faults, quirks, signal: ac.signal,
      onStatus: (s) => print(s),
      onCorpus: (sc, index) => store.addCorpus(sc, index),
      onBatch: (s) => store.save(s),
      onFinding: (f) => {
        f.files = store.writeFinding(f);
        f.reproduce = reproduceOf(f.files.original, f.policy, f.seed);
        print({ runs: f.foundAfterRuns, elapsedMs: f.foundAfterS * 1000, coverage: st.coverage.size, corpus: st.corpus.length, findings: st.findings.size, errors: 0 }, true);
        say(`\n  ✗ ${f.key} (run ${f.index}, after ${f.foundAfterRuns} runs, ${f.foundAfterS.toFixed(1)} s): ${f.message}`);
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
    await runner.close();
  }
  print(status, true);
  if (process.stderr.isTTY && !o.json) say('');
  store.save(st);
  const all = [...st.findings.values()];
  for (const f of all) f.reproduce ??= f.files ? reproduceOf(f.shrunk ? f.files.scenario : f.files.original, f.policy, f.shrunk?.seed ?? f.seed) : undefined;
  report(all, st, status, out, !!o.json);
  return all.length ? 1 : 0;
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
