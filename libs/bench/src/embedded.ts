import { resolvePolicy } from '../../contracts/src/index.js';
import { runEmbedded } from '../../engine/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import { bareReducer, bareReducerJson, REDUCER_KEYS, REDUCER_MIN_MS, reducerEvents } from './bare-reducer.js';
import { BENCH_POLICY, type LocalContext } from './context.js';
import { figure, fmt } from './figure.js';
import { WORKLOAD } from './plan.js';
import type { RateTrial } from './raw-xadd.js';
import { atLeast, round } from './stats.js';
import type { Figure } from './types.js';
import { generatedScenario } from './workload.js';

/** The embedded engine: runs of the scenario (seeds 1, 2, …), at least `runs` and at least `minMs` of them; entries recorded per second. */
export async function embeddedTrial(scenario: Scenario, runs: number, hash = true, minMs = 0): Promise<RateTrial & { runs: number }> {
  const policy = resolvePolicy(BENCH_POLICY);
  let n = 0;
  let i = 0;
  const t = performance.now();
  while (i < runs || performance.now() - t < minMs) {
    n += (await runEmbedded({ runId: `emb-${i}`, scenario, policy, seed: 1 + i, hash })).entries.length;
    i++;
  }
  const ms = performance.now() - t;
  return { entries: n, ms, rate: (n / ms) * 1000, runs: i };
}

/** 5. The embedded engine against a bare immutable reducer over the same number of events, trials interleaved. */
export async function measureEmbedded(ctx: LocalContext): Promise<Figure[]> {
  const em = ctx.plan.embedded;
  const pr = ctx.progress;
  pr.phase('5. embedded engine: runEmbedded, a bare immutable reducer; trials interleaved', em.trials * 2);
  const scenario = generatedScenario(WORKLOAD);
  // untimed: until the JIT has settled (the first runs are ~2x slower)
  await embeddedTrial(scenario, em.runs, true, em.minMs);
  bareReducer(reducerEvents(100_000));
  const a: number[] = [];
  const b: number[] = [];
  let events = reducerEvents(1);
  let folds = 0;
  let runs = 0;
  for (let t = 0; t < em.trials; t++) {
    const x = await embeddedTrial(scenario, em.runs, true, em.minMs);
    runs = x.runs;
    a.push(x.rate);
    pr.tick(`runEmbedded ${fmt(x.rate)} entries/s`);
    if (events.length !== x.entries) events = reducerEvents(x.entries);
    const y = bareReducer(events);
    folds = y.folds;
    b.push(y.rate);
    pr.tick(`bare reducer ${fmt(y.rate)} events/s`);
  }
  const noHash = await embeddedTrial(scenario, em.runs, false, em.minMs);
  const json = bareReducerJson(events);
  return [figure({
    id: 'embedded', name: 'embedded engine: simulated entries/s (runEmbedded)', unit: 'entries/s', trials: a,
    peer: { name: 'bare immutable reducer over the same number of events', unit: 'events/s', trials: b }, goal: atLeast(0.1),
    config: {
      product: `runEmbedded of the hop-throughput workload (${WORKLOAD.vms} VMs, ${WORKLOAD.rounds} rounds, ${WORKLOAD.backgroundDma} background DMA per VM), runs with seeds 1, 2, … for at least ${em.runs} runs and ${em.minMs} ms per trial (${runs} runs in the last), after as long untimed; state hashes on (the default): the seeded scheduler, and per job the services' own path (ComponentHost: the deciders, the memory log's append-once with its marker and run-state gate, the outbox onto the fake queue), no faults`,
      peer: `state = { ...state, [e.k]: e.v } per event over ${events.length} events on ${REDUCER_KEYS} keys (the same count as the entries), the fold repeated from an empty state until ${REDUCER_MIN_MS} ms were timed (${folds} folds in the last trial)`,
    },
    details: { embeddedWithoutStateHashes: round(noHash.rate), bareReducerWithJsonRoundTrip: round(json.rate) },
  })];
}
