import { deliveryRates, drawRunFaults, withDeviceFaults, type FaultSpec } from '../../chaos/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import { isCacheState } from './cache-coverage.js';
import { findingKey, quirkOf, type Finding, type Quirk } from './findings.js';
import { generateScenario } from './generate/program.js';
import { mutateScenario } from './generate/mutate.js';
import { Rand } from './generate/rand.js';
import { swarmConfig, uniformConfig } from './generate/swarm.js';
import type { RunPool } from './pool.js';
import type { ExploreRunResult, ExploreRunSpec } from './run-spec.js';

/** Runs per batch: the corpus a batch mutates is the one before it, whatever the number of workers. */
export const BATCH = 16;

export interface ExploreBudget {
  runs?: number;
  ms?: number;
}

/** What an exploration carries from one session to the next (store.ts keeps it in the out folder). */
export interface ExploreState {
  seed: number;
  policy: ExploreRunSpec['policy'];
  mode: 'guided' | 'uniform';
  faults?: string;
  /** the next run's index */
  next: number;
  coverage: Set<string>;
  /** programs that reached new coverage, in the order they did */
  corpus: Scenario[];
  /** the corpus entries whose new coverage was a cache state (cache-coverage.ts): mutated more often, as each is a step toward the next */
  deep?: number[];
  findings: Map<string, Finding>;
  /** findings matching a quirk: counted, not reported */
  quirks: Map<string, number>;
}

export interface ExploreStatus {
  runs: number;
  elapsedMs: number;
  coverage: number;
  corpus: number;
  findings: number;
  errors: number;
}

export interface ExploreOptions {
  pool: RunPool;
  budget: ExploreBudget;
  faults?: FaultSpec;
  quirks?: readonly Quirk[];
  /** each new finding, as it is found (before shrinking) */
  onFinding?: (f: Finding) => void | Promise<void>;
  /** a corpus entry as it is added */
  onCorpus?: (sc: Scenario, index: number) => void | Promise<void>;
  onStatus?: (s: ExploreStatus) => void;
  /** after each batch (the store saves the state) */
  onBatch?: (st: ExploreState) => void | Promise<void>;
  /** stop at the first finding for which this holds (the benchmark's time to find) */
  stopWhen?: (f: Finding) => boolean;
  signal?: AbortSignal;
}

export function newState(seed: number, policy: ExploreRunSpec['policy'], mode: ExploreState['mode'], faults?: string): ExploreState {
  return { seed, policy, mode, faults, next: 0, coverage: new Set(), corpus: [], deep: [], findings: new Map(), quirks: new Map() };
}

/** The run's own seed: the exploration's and its index mixed, so run i is the same in every session. */
export const runSeed = (seed: number, index: number) => (Math.imul(seed ^ 0x5bd1e995, 0x01000193) + Math.imul(index + 1, 0x9e3779b1)) >>> 0;

/**
 * The spec of run `index`: its configuration drawn (swarm, or uniform for the peer), its program
 * generated or, half the time once the corpus has something, mutated from a corpus program; its
 * faults drawn from `--faults`. A function of the exploration's seed, the index and the corpus.
 */
export function specFor(st: ExploreState, index: number, faults?: FaultSpec): ExploreRunSpec | undefined {
  const seed = runSeed(st.seed, index);
  const r = new Rand(seed);
  const cfg = st.mode === 'uniform' ? uniformConfig(r) : swarmConfig(r);
  const name = `explore-${index}`;
  let sc: Scenario | undefined;
  if (st.mode === 'guided' && st.corpus.length && r.chance(0.5)) {
    // recent entries reached the newest coverage: favour them, and half the time take a deep one
    const recent = (n: number) => n - 1 - Math.min(n - 1, Math.floor(n * r.float() * r.float()));
    const deep = st.deep ?? [];
    const i = deep.length && r.chance(0.5) ? deep[recent(deep.length)]! : recent(st.corpus.length);
    sc = mutateScenario({ ...st.corpus[i]!, name }, r, cfg);
  }
  sc ??= generateScenario(name, r, cfg);
  if (!sc) return undefined;
  let delivery: ExploreRunSpec['delivery'];
  if (faults && Object.keys(faults.kinds).length) {
    const rf = drawRunFaults(faults, seed);
    sc = withDeviceFaults(sc, rf, seed, `${name}.yaml`).scenario;
    delivery = deliveryRates(rf);
  }
  return { index, seed, policy: st.policy, scenario: sc, bias: cfg.bias, ...(delivery ? { delivery } : {}) };
}

/**
 * The exploration loop: batches of runs, each batch's specs drawn from the state before it, run by
 * the pool, and merged in index order: new coverage puts the program in the corpus, a violation
 * whose (invariant, signature) is new is a finding. Ends at the budget, the abort signal or
 * `stopWhen`; the state can be saved and continued.
 */
export async function explore(st: ExploreState, o: ExploreOptions): Promise<ExploreStatus> {
  const t0 = Date.now();
  const start = st.next;
  let errors = 0;
  const status = (): ExploreStatus => ({ runs: st.next - start, elapsedMs: Date.now() - t0, coverage: st.coverage.size, corpus: st.corpus.length, findings: st.findings.size, errors });
  const done = () => o.signal?.aborted || (o.budget.runs !== undefined && st.next - start >= o.budget.runs) || (o.budget.ms !== undefined && Date.now() - t0 >= o.budget.ms);
  let stop = false;
  while (!stop && !done()) {
    const n = o.budget.runs !== undefined ? Math.min(BATCH, o.budget.runs - (st.next - start)) : BATCH;
    const specs: ExploreRunSpec[] = [];
    const byIndex = new Map<number, ExploreRunSpec>();
    for (let i = 0; i < n; i++) {
      const spec = specFor(st, st.next + i, o.faults);
      if (spec) {
        specs.push(spec);
        byIndex.set(spec.index, spec);
      }
    }
    const results = await o.pool.run(specs);
    if (o.signal?.aborted && results.length < specs.length) break;
    st.next += n;
    for (const res of results.sort((a, b) => a.index - b.index)) {
      const spec = byIndex.get(res.index);
      if (!spec) continue;
      if (res.error) errors++;
      const fresh = mergeCoverage(st, res);
      if (fresh.length) {
        if (fresh.some(isCacheState)) (st.deep ??= []).push(st.corpus.length);
        st.corpus.push(spec.scenario);
        await o.onCorpus?.(spec.scenario, spec.index);
      }
      for (const f of newFindings(st, spec, res, o.quirks ?? [], { runs: spec.index - start, elapsedMs: Date.now() - t0 })) {
        await o.onFinding?.(f);
        if (o.stopWhen?.(f)) stop = true;
      }
    }
    await o.onBatch?.(st);
    o.onStatus?.(status());
    // an inline pool never waits on I/O: without this turn of the event loop a signal (Ctrl-C) would
    // never be delivered to the handler that asks the loop to stop
    await new Promise((r) => setImmediate(r));
  }
  return status();
}

/** The run's coverage no earlier run had, now merged in. */
function mergeCoverage(st: ExploreState, res: ExploreRunResult): string[] {
  const fresh = res.coverage.filter((c) => !st.coverage.has(c));
  for (const c of fresh) st.coverage.add(c);
  return fresh;
}

function newFindings(st: ExploreState, spec: ExploreRunSpec, res: ExploreRunResult, quirks: readonly Quirk[], s: { runs: number; elapsedMs: number }): Finding[] {
  const out: Finding[] = [];
  const problems = res.error
    ? [{ invariant: 'simulator-error', signature: res.error.split('\n')[0]!.replace(/\d+/g, '#').slice(0, 120), message: res.error }]
    : res.violations;
  for (const v of problems) {
    const key = findingKey(v.invariant, v.signature);
    const had = st.findings.get(key);
    if (had) {
      had.hits++;
      continue;
    }
    if (quirkOf(quirks, v, spec.policy.preset)) {
      st.quirks.set(key, (st.quirks.get(key) ?? 0) + 1);
      continue;
    }
    const f: Finding = {
      key, invariant: v.invariant, signature: v.signature, message: v.message, index: spec.index, ordinal: st.findings.size, seed: spec.seed, bias: spec.bias, policy: spec.policy,
      hits: 1, foundAfterS: s.elapsedMs / 1000, foundAfterRuns: s.runs + 1, scenario: spec.scenario,
    };
    st.findings.set(key, f);
    out.push(f);
  }
  return out;
}
