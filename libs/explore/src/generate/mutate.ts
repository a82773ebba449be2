import type { Scenario, Step } from '../../../scenario/src/index.js';
import { opDescription } from './ops.js';
import { asScenario, drawStep } from './program.js';
import type { Rand } from './rand.js';
import { devicePasidsGrounded, stateAt } from './state.js';
import { auxOffFits } from './topology.js';
import type { SwarmConfig } from './swarm.js';

type Mutation = 'insert' | 'repeat' | 'delete' | 'swap' | 'redraw' | 'topology';
const MUTATIONS: Mutation[] = ['insert', 'insert', 'repeat', 'repeat', 'delete', 'swap', 'redraw', 'redraw', 'topology'];

function mutateOnce(sc: Scenario, r: Rand, cfg: SwarmConfig): Scenario | undefined {
  const steps = [...sc.steps];
  let topo = { host: sc.host, parents: sc.parents, vms: sc.vms };
  const m = r.pick(MUTATIONS);
  const k = r.int(0, Math.max(0, steps.length - 1));
  switch (m) {
    case 'insert': {
      const at = r.int(0, steps.length);
      const st = drawStep(stateAt(sc, at), r, cfg, undefined, steps[at - 1]);
      if (!st) return undefined;
      steps.splice(at, 0, st);
      break;
    }
    case 'repeat': {
      // a step done again later, on what it used before (a device touching the same page after the
      // guest changed it); a step that binds a variable is not repeated (it would rebind it)
      const device = steps.flatMap((x, i) => (opDescription(x.op)?.family === 'device' ? [i] : []));
      const at = device.length && r.chance(0.8) ? r.pick(device) : k;
      const st = steps[at];
      if (!st || ('as' in st && st.as)) return undefined;
      // half the time at the end, where everything the program did before it holds
      steps.splice(r.chance(0.5) ? steps.length : r.int(at + 1, steps.length), 0, st);
      break;
    }
    case 'delete':
      if (!steps.length) return undefined;
      steps.splice(k, 1);
      break;
    case 'swap':
      if (steps.length < 2) return undefined;
      [steps[k], steps[(k + 1) % steps.length]] = [steps[(k + 1) % steps.length]!, steps[k]!];
      break;
    case 'redraw': {
      // the same operation with its arguments drawn again, in the state before it
      const d = steps.length ? opDescription(steps[k]!.op) : undefined;
      if (!d || !d.enabled(stateAt(sc, k))) return undefined;
      const st = drawStep(stateAt(sc, k), r, cfg, d);
      if (!st) return undefined;
      steps[k] = keepBinding(st, steps[k]!);
      break;
    }
    case 'topology': {
      const host = { ...sc.host };
      const parents = sc.parents.map((p) => ({ ...p }));
      const knob = r.int(0, 3);
      if (knob === 0) host.prq_irq = host.prq_irq === 'auto' ? 'manual' : 'auto';
      else if (knob === 1) host.pasid_bits = host.pasid_bits === 20 ? r.pick([3, 4, 6]) : 20;
      else if (knob === 2) {
        const p = r.pick(parents);
        if (p.aux !== false && !auxOffFits(sc.vms, p)) return undefined;
        p.aux = p.aux === false;
      }
      else { const p = r.pick(parents); p.ats = !p.ats; }
      topo = { ...topo, host, parents };
      break;
    }
  }
  const workload = sc.workload.filter((w) => w.from <= steps.length);
  const child = asScenario(sc.name, topo, steps, workload, sc.description);
  return child && devicePasidsGrounded(child) ? child : undefined;
}

/** A redrawn step keeps the variable the original bound (later steps refer to it). */
function keepBinding(st: Step, was: Step): Step {
  return 'as' in was && was.as && 'as' in st ? { ...st, as: was.as } as Step : st;
}

/**
 * A child of a corpus program, as syzkaller mutates: one to three of insert a step drawn in the state
 * before it, repeat one later, delete one, swap two neighbours, draw one's arguments again, or turn a topology knob.
 * Undefined when no mutation gave a program the schema takes.
 */
export function mutateScenario(sc: Scenario, r: Rand, cfg: SwarmConfig): Scenario | undefined {
  let cur = sc;
  const n = r.int(1, 3);
  for (let i = 0, done = 0; i < 10 && done < n; i++) {
    const next = mutateOnce(cur, r, cfg);
    if (next) {
      cur = next;
      done++;
    }
  }
  return cur === sc ? undefined : cur;
}
