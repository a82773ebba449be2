import { ScenarioSchema, StepSchema, type Scenario, type Step } from '../../../scenario/src/index.js';
import { devicePasid } from './args.js';
import { OP_DESCRIPTIONS, opDescription, type OpDescription, type Resource } from './ops.js';
import type { Rand } from './rand.js';
import { emptyState, extend, stateAt, usableMdevs, type GenState } from './state.js';
import type { SwarmConfig } from './swarm.js';
import { drawTopology, type Topology } from './topology.js';

/** The operations a configuration has on, with their weights. */
function menu(cfg: SwarmConfig): Array<[OpDescription, number]> {
  return OP_DESCRIPTIONS.filter((d) => d.family !== 'setup' && (cfg.weights[d.op] ?? 0) > 0).map((d) => [d, cfg.weights[d.op]!]);
}

/** Manual setup the program still owes (setup-rules.ts): it comes first, in an order the rules take. */
function pendingSetup(s: GenState): OpDescription | undefined {
  return OP_DESCRIPTIONS.find((d) => d.family === 'setup' && d.enabled(s));
}

/** the odds of a clean step (SwarmConfig.clean): every argument valid */
const ALL_VALID = { valid: 1, boundary: 0 };

/** An operation that uses what the previous step made is this many times likelier (the choice table). */
const CHAIN = 4;

/**
 * Draws one step valid for the schema at state `s` (a few tries; undefined when nothing on the menu
 * fits), favouring operations that use what `prev` made, and disfavouring those that use nothing made yet.
 */
export function drawStep(s: GenState, r: Rand, cfg: SwarmConfig, only?: OpDescription, prev?: Step): Step | undefined {
  const made = prev ? (opDescription(prev.op)?.makes ?? []) : [];
  const have = madeSoFar(s);
  const weight = (d: OpDescription, w: number) => (d.uses?.some((u) => made.includes(u)) ? w * CHAIN : d.uses?.length && !d.uses.some((u) => have.has(u)) ? w / CHAIN : w);
  const ops = only
    ? [[only, 1] as [OpDescription, number]]
    : menu(cfg).filter(([d]) => d.enabled(s)).map(([d, w]): [OpDescription, number] => [d, weight(d, w)]);
  const odds = r.chance(cfg.clean) ? ALL_VALID : cfg;
  for (let tries = 0; tries < 5 && ops.length; tries++) {
    const d = ops[r.weighted(ops.map(([, w]) => w))]![0];
    const parsed = StepSchema.safeParse(d.draw(s, r, odds));
    if (parsed.success && refsBound(parsed.data, s)) return parsed.data;
  }
  return undefined;
}

/** The resources the program has made so far (an operation that uses none of them is rarer: it has nothing to work on). */
function madeSoFar(s: GenState): Set<Resource> {
  return new Set<Resource>([
    ...(s.vars.length ? ['pasid' as const] : []), ...(s.roots.length ? ['binding' as const] : []), ...(s.roots.length && s.mapped.length ? ['translation' as const] : []),
    ...(s.mapped.length ? ['mapping' as const] : []), ...(s.pinned.length ? ['pin' as const] : []),
  ]);
}

/** A `$var` a step names must be one the program bound before it. */
function refsBound(st: Step, s: GenState): boolean {
  const refs = [('pasid' in st ? st.pasid : undefined), ('hpasid' in st ? st.hpasid : undefined), ('gpasid' in st ? st.gpasid : undefined)];
  return refs.every((x) => typeof x !== 'string' || s.vars.some((v) => `$${v.name}` === x));
}

/** Background device work: DMA or page requests on a PASID of the mdev's VM, from a step after it was allocated. */
function drawWorkload(sc: Pick<Scenario, 'host' | 'parents' | 'vms' | 'steps'>, r: Rand, cfg: SwarmConfig): Scenario['workload'] {
  const out: Scenario['workload'] = [];
  for (let i = 0; i < cfg.workload; i++) {
    const from = r.int(0, sc.steps.length);
    const s = stateAt(sc, from);
    const mdevs = usableMdevs(s);
    if (!mdevs.length) continue;
    const m = r.pick(mdevs);
    const pasid = devicePasid(r, s, m.vm);
    out.push({ mdev: m.id, pasid, op: r.chance(0.7) ? 'dma' : 'page_request', va: 0x400000, pages: r.pick([1, 4]), write: r.chance(0.5), from, count: r.pick([1, 4, 16]) });
  }
  return out;
}

/** The program's scenario, checked by the schema (undefined when the draw broke a rule the generator does not know). */
export function asScenario(name: string, topo: Topology, steps: Step[], workload: Scenario['workload'], note: string): Scenario | undefined {
  const r = ScenarioSchema.safeParse({ name, description: note, ...topo, steps, workload });
  return r.success ? r.data : undefined;
}

/**
 * A program from nothing: a topology, the manual setup it needs, then `cfg.steps` operations drawn
 * from the configuration's menu, then background work. Written as an ordinary scenario, so whatever
 * exploration makes can be run, replayed, diffed, shrunk and kept.
 */
export function generateScenario(name: string, r: Rand, cfg: SwarmConfig): Scenario | undefined {
  const topo = drawTopology(r, cfg.topology);
  let s = emptyState(topo);
  const steps: Step[] = [];
  for (let d = pendingSetup(s); d; d = pendingSetup(s)) {
    const st = drawStep(s, r, cfg, d);
    if (!st) return undefined;
    steps.push(st);
    s = extend(s, st);
  }
  for (let i = 0; i < cfg.steps; i++) {
    const st = drawStep(s, r, cfg, undefined, steps[steps.length - 1]);
    if (!st) break;
    steps.push(st);
    s = extend(s, st);
  }
  const sc = { ...topo, steps };
  return asScenario(name, topo, steps, drawWorkload(sc, r, cfg), 'generated by vsva-sim explore');
}
