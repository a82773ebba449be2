import { OP_DESCRIPTIONS, type OpName } from './ops.js';
import type { Rand } from './rand.js';

/**
 * What one run of the exploration generates from: which operations are on and how often, how its
 * arguments are drawn, its topology's odds and the scheduler's bias. Swarm testing (Groce et al.):
 * each run draws its own configuration, so a run that leaves most operations out goes deep into the
 * few it keeps, where a run of every operation at once would dilute them; `uniform` is the peer the
 * benchmark measures against: every operation on with equal weight, the same odds for every run.
 */
export interface SwarmConfig {
  weights: Partial<Record<OpName, number>>;
  /** how an argument is drawn: valid, at a boundary, or invalid (the rest) */
  valid: number;
  boundary: number;
  /** the odds a step has every argument valid (a chain of steps that each work is what reaches deep state) */
  clean: number;
  /** foreground steps of the program */
  steps: number;
  /** background workload entries */
  workload: number;
  /** runEmbedded `bias`: toward the scheduler's default order */
  bias: number;
  topology: TopologyOdds;
}

/** The odds of the topology's knobs (topology.ts draws from them). */
export interface TopologyOdds {
  /** at most this many VMs, parents, mdevs per VM (each run draws from 1 to it) */
  vms: number;
  parents: number;
  mdevsPerVm: number;
  nonIommuParent: number;
  sharedGroup: number;
  manualSetup: number;
  hostKnob: number;
  parentKnob: number;
}

export const UNIFORM_TOPOLOGY: TopologyOdds = { vms: 3, parents: 3, mdevsPerVm: 3, nonIommuParent: 0.25, sharedGroup: 0.15, manualSetup: 0.1, hostKnob: 0.1, parentKnob: 0.1 };

/** Every operation on with equal weight, arguments and topology at fixed odds. */
export function uniformConfig(r: Rand): SwarmConfig {
  return {
    weights: Object.fromEntries(OP_DESCRIPTIONS.map((d) => [d.op, 1])),
    valid: 0.8, boundary: 0.1, clean: 0,
    steps: r.int(2, 16), workload: r.chance(0.2) ? 1 : 0, bias: 0,
    topology: UNIFORM_TOPOLOGY,
  };
}

/** A configuration drawn for one run: a random subset of operations, random weights, odds and bias. */
export function swarmConfig(r: Rand): SwarmConfig {
  const weights: Partial<Record<OpName, number>> = {};
  // each operation is on with probability 0.3, so a run goes deep into the few it has; the ones a
  // program needs to do anything at all (a PASID, a bind, a mapping, a DMA) are on in most runs
  for (const d of OP_DESCRIPTIONS) if (r.chance(d.core ? 0.85 : 0.3)) weights[d.op] = r.pick([1, 2, 4, 8]);
  const valid = r.pick([0.95, 0.8, 0.6]);
  return {
    weights, valid, boundary: (1 - valid) * r.pick([0.3, 0.5, 0.7]), clean: r.pick([0.3, 0.6, 0.9]),
    steps: r.int(1, 20), workload: r.chance(0.25) ? r.int(1, 2) : 0,
    bias: r.pick([0, 0.5, 0.9, 1]),
    topology: {
      vms: r.int(1, 3), parents: r.int(1, 3), mdevsPerVm: r.int(1, 3),
      nonIommuParent: r.pick([0, 0.3, 0.6]), sharedGroup: r.pick([0, 0.2, 0.5]), manualSetup: r.pick([0, 0, 0.3]),
      hostKnob: r.pick([0, 0.15, 0.4]), parentKnob: r.pick([0, 0.15, 0.4]),
    },
  };
}
