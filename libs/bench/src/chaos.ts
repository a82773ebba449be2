import { resolvePolicy } from '../../contracts/src/index.js';
import { drawRunFaults, embeddedChaosRun, parseFaults } from '../../chaos/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import { BENCH_POLICY, type LocalContext } from './context.js';
import { embeddedTrial } from './embedded.js';
import { figure, fmt } from './figure.js';
import { WORKLOAD } from './plan.js';
import { atLeast } from './stats.js';
import type { Figure } from './types.js';
import { generatedScenario } from './workload.js';

const FAULTS = 'all';

/** Chaos runs of the embedded engine (seeds 1, 2, …) for at least `minMs`: runs per second. */
async function chaosTrial(scenario: Scenario, minMs: number): Promise<{ rate: number; runs: number; faults: number }> {
  const policy = resolvePolicy(BENCH_POLICY);
  const spec = parseFaults(FAULTS, 'embedded');
  let runs = 0;
  let faults = 0;
  const t = performance.now();
  while (runs < 2 || performance.now() - t < minMs) {
    const seed = 1 + runs;
    const r = await embeddedChaosRun({ file: 'bench', scenario, policy, seed, faults: drawRunFaults(spec, seed), reproduce: '' });
    if (!r.ok) throw new Error(`bench: chaos run seed ${seed} is not ok (${r.differences[0] ?? r.findings[0]?.invariant ?? 'lost or doubled'}): the figure would measure a failure`);
    faults += r.injected.length;
    runs++;
  }
  return { rate: (runs / (performance.now() - t)) * 1000, runs, faults };
}

/** 6. `vsva-sim chaos --engine embedded`: faulted runs per second against fault-free runs of the same scenario. */
export async function measureChaos(ctx: LocalContext): Promise<Figure[]> {
  const em = ctx.plan.embedded;
  const pr = ctx.progress;
  pr.phase('6. chaos, embedded engine: faulted runs/s, fault-free runs/s; trials interleaved', em.trials * 2);
  const scenario = generatedScenario(WORKLOAD);
  await chaosTrial(scenario, em.minMs);
  const a: number[] = [];
  const b: number[] = [];
  let last = { runs: 0, faults: 0 };
  let plainRuns = 0;
  for (let t = 0; t < em.trials; t++) {
    const x = await chaosTrial(scenario, em.minMs);
    last = x;
    a.push(x.rate);
    pr.tick(`chaos ${fmt(x.rate)} runs/s`);
    // the peer: fault-free runs of the same scenario, what a chaos run is made of (three of them and the checks)
    const y = await embeddedTrial(scenario, 2, true, em.minMs);
    const rate = (y.runs / y.ms) * 1000;
    plainRuns = y.runs;
    b.push(rate);
    pr.tick(`fault-free ${fmt(rate)} runs/s`);
  }
  return [figure({
    id: 'chaos-embedded', name: 'chaos, embedded engine: faulted runs/s (vsva-sim chaos --faults all)', unit: 'runs/s', trials: a,
    peer: { name: 'fault-free runEmbedded of the same scenario', unit: 'runs/s', trials: b },
    // a chaos run is three runs of the seed (no fault, device faults, every fault) and its checks (delivery, replay, the twin's outcomes)
    goal: atLeast(0.25),
    config: {
      product: `embeddedChaosRun with --faults ${FAULTS} (delivery faults at their default rates, each device fault once) on the hop-throughput workload (${WORKLOAD.vms} VMs, ${WORKLOAD.rounds} rounds), policy ${BENCH_POLICY}, seeds 1, 2, … for at least ${em.minMs} ms per trial (${last.runs} runs and ${last.faults} faults in the last): three runs of the seed, checkDelivery, replay, the comparison with the fault-free twin`,
      peer: `runEmbedded of the same scenario and policy, seeds 1, 2, … for at least ${em.minMs} ms per trial (${plainRuns} runs in the last)`,
    },
  })];
}
