import { prngStream } from '../../engine/src/index.js';
import type { Engine } from './engine.js';
import { FAULT_KINDS, FAULT_KIND_NAMES, familyOf, kindsFor, type FaultFamily, type FaultKindName } from './kinds.js';

/** `--faults` parsed: each kind named, with the probability given (undefined: its default, fault-spec.ts). */
export interface FaultSpec {
  engine: Engine;
  kinds: Partial<Record<FaultKindName, number | undefined>>;
  /** each run enables a random subset of `kinds` with random rates, drawn from its seed (VOPR's swarm) */
  swarm: boolean;
}

/** The faults of one run, every parameter fixed: what is printed, stored in the run's log and reproduced. */
export interface RunFaults {
  /**
   * Per kind. Delivery faults: the probability per job. Process and device faults: the probability per
   * position (log entry or scenario step), or `once` when the kind fires exactly once at a seeded position.
   */
  rates: Partial<Record<FaultKindName, number | 'once'>>;
}

export class FaultSpecError extends Error {
  constructor(message: string) {
    super(`${message}\n${acceptedFaults()}`);
    this.name = 'FaultSpecError';
  }
}

const GROUPS: Record<string, (e: Engine) => FaultKindName[]> = {
  all: (e) => kindsFor(e),
  none: () => [],
  infra: (e) => kindsFor(e).filter((k) => familyOf(k) !== 'device'),
  process: (e) => kindsFor(e).filter((k) => familyOf(k) === 'process'),
  delivery: (e) => kindsFor(e).filter((k) => familyOf(k) === 'delivery'),
  device: (e) => kindsFor(e).filter((k) => familyOf(k) === 'device'),
};

/** What `--faults` accepts, for its help and its errors. */
export function acceptedFaults(): string {
  const fam = (f: FaultFamily) => FAULT_KIND_NAMES.filter((k) => familyOf(k) === f);
  return [
    'Accepted in --faults (comma-separated, each optionally =P with P a probability from 0 to 1):',
    `  groups:   ${Object.keys(GROUPS).join(', ')}, swarm (each run draws a subset with random rates)`,
    `  process:  ${fam('process').join(', ')}  (cluster engine only)`,
    `  delivery: ${fam('delivery').join(', ')}`,
    `  device:   ${fam('device').join(', ')}`,
  ].join('\n');
}

/** Parses `--faults`: e.g. `all`, `kill,pause,redis`, `duplicate=0.2,ite`, `device,swarm`. */
export function parseFaults(text: string, engine: Engine): FaultSpec {
  const spec: FaultSpec = { engine, kinds: {}, swarm: false };
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new FaultSpecError('--faults names no fault');
  for (const item of items) {
    const [name, value, extra] = item.split('=');
    if (extra !== undefined) throw new FaultSpecError(`--faults: '${item}' has more than one '='`);
    let p: number | undefined;
    if (value !== undefined) {
      p = /^\s*(0|1|0?\.\d+|1\.0*)\s*$/.test(value) ? Number(value) : NaN;
      if (!(p >= 0 && p <= 1)) throw new FaultSpecError(`--faults: ${name}=${value}: a probability is a number from 0 to 1`);
    }
    if (name === 'swarm') {
      if (p !== undefined) throw new FaultSpecError("--faults: 'swarm' takes no probability");
      spec.swarm = true;
      continue;
    }
    const group = GROUPS[name!];
    if (group) {
      for (const k of group(engine)) spec.kinds[k] = p;
      continue;
    }
    if (!(name! in FAULT_KINDS)) throw new FaultSpecError(`--faults: unknown fault '${name}'`);
    const k = name as FaultKindName;
    if (!(FAULT_KINDS[k].engines as readonly Engine[]).includes(engine)) {
      throw new FaultSpecError(`--faults: '${k}' is a ${familyOf(k)} fault: the ${FAULT_KINDS[k].engines.join(' and ')} engine only (this is --engine ${engine})`);
    }
    spec.kinds[k] = p;
  }
  return spec;
}

/**
 * The run's faults, a function of the spec and the run's seed. A kind named without a probability:
 * in the embedded engine delivery faults fire at their default rate per job; every other kind (and
 * every kind in the cluster, whose nemesis acts one fault at a time, each for seconds) once per run.
 * With swarm (drawn from a stream of the seed of its own), each kind is on with probability 1/2 (at
 * least one is), and an embedded delivery fault's rate is drawn from (0, 4 x its default].
 */
export function drawRunFaults(spec: FaultSpec, seed: number): RunFaults {
  const named = Object.keys(spec.kinds) as FaultKindName[];
  const rand = prngStream(seed, 3);
  let on = named;
  if (spec.swarm) {
    on = named.filter(() => rand() < 0.5);
    if (!on.length && named.length) on = [named[Math.floor(rand() * named.length)]!];
  }
  const rates: RunFaults['rates'] = {};
  for (const k of on) {
    const p = spec.kinds[k];
    if (p !== undefined && !spec.swarm) rates[k] = p;
    else if (familyOf(k) === 'delivery' && spec.engine === 'embedded') rates[k] = round(spec.swarm ? (1 - rand()) * 4 * FAULT_KINDS[k].defaultRate : (p ?? FAULT_KINDS[k].defaultRate));
    else rates[k] = 'once';
  }
  return { rates };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** The `--faults` list that gives these faults again (no swarm: the rates are fixed). */
export function faultsArg(f: RunFaults): string {
  return (Object.entries(f.rates) as Array<[FaultKindName, number | 'once']>).map(([k, r]) => (r === 'once' ? k : `${k}=${r}`)).join(',') || 'none';
}

/** A run's delivery-fault probabilities per job, as the embedded scheduler takes them (a kind off is 0). */
export function deliveryRates(f: RunFaults): { duplicate: number; holdBack: number; crash: number } {
  const rate = (k: FaultKindName) => {
    const r = f.rates[k];
    return typeof r === 'number' ? r : 0;
  };
  return { duplicate: rate('duplicate'), holdBack: rate('delay'), crash: rate('crash') };
}
