import { stringify } from 'yaml';
import { prngStream } from '../../engine/src/index.js';
import { ScenarioSchema, type Scenario } from '../../scenario/src/index.js';
import type { RunFaults } from './fault-spec.js';
import { familyOf, type FaultKindName } from './kinds.js';

/** A device fault put into the run: the step it became and where. */
export interface DeviceFault {
  kind: FaultKindName;
  target: string;
  /** its index in the faulted scenario's steps */
  step: number;
  /** the step as the scenario file holds it */
  op: Record<string, unknown>;
}

export interface Faulted {
  scenario: Scenario;
  /** the faulted scenario as a file (YAML): `vsva-sim run` takes it (written only for a run kept: a YAML round trip per run was a quarter of a chaos run) */
  yaml: () => string;
  faults: DeviceFault[];
}

/** Steps that build the topology (create/set_iommu/attach: manual): a device fault comes after them. */
const SETUP_OPS = new Set(['mdev_create', 'vfio_set_iommu', 'vfio_attach_group']);

/** The scenario step a device fault is, for a target drawn with `pick` (libs/scenario schema.ts). */
function stepFor(kind: FaultKindName, sc: Scenario, rand: () => number, pick: <T>(xs: readonly T[]) => T | undefined): Record<string, unknown> | undefined {
  // the hardware faults need a device behind the IOMMU (ATS, PRI): a non-IOMMU parent has neither
  const parents = sc.parents.filter((p) => p.kind === 'iommu-backed').map((p) => p.id);
  const mdevs = sc.vms.flatMap((v) => v.mdevs).filter((m) => parents.includes(m.parent)).map((m) => m.id);
  const parent = pick(parents);
  const background = true;
  switch (kind) {
    case 'surprise-removal':
      return parent === undefined ? undefined : { op: 'device_remove', parent, background };
    case 'ite':
      return parent === undefined ? undefined : { op: 'device_fault', parent, fault: 'ite', count: 1, background };
    case 'devtlb-unresponsive':
      return parent === undefined ? undefined : { op: 'device_fault', parent, fault: 'ite', count: 2 + Math.floor(rand() * 6), background };
    case 'prq-overflow':
      return parent === undefined ? undefined : { op: 'device_fault', parent, fault: 'prq_overflow', count: 1 + Math.floor(rand() * 4), background };
    case 'fault-storm': {
      const mdev = pick(mdevs);
      return mdev === undefined ? undefined : { op: 'fault_storm', mdev, count: 8 + Math.floor(rand() * 25), background };
    }
    default:
      return undefined;
  }
}

/**
 * The scenario with the run's device faults as steps (DOMAIN.md §7.13: what the hardware does is the
 * model's business), at positions drawn from the seed (a stream of its own: prngStream(seed, 2)). The
 * faults run in the background, so they meet whatever the guests are doing. The steps' `expect`s go:
 * a removed device changes what a guest sees, and the run is judged by the invariants alone.
 */
export function withDeviceFaults(sc: Scenario, faults: RunFaults, seed: number, file = 'chaos.yaml'): Faulted {
  const rand = prngStream(seed, 2);
  const pick = <T>(xs: readonly T[]): T | undefined => (xs.length ? xs[Math.floor(rand() * xs.length)] : undefined);
  const n = sc.steps.length;
  // positions: before original step i, from the first after the scenario's own setup steps to the end
  const first = 1 + sc.steps.reduce((last, st, i) => (SETUP_OPS.has(st.op) ? i : last), -1);
  const inserts: Array<{ at: number; kind: FaultKindName; op: Record<string, unknown> }> = [];
  for (const [kind, rate] of Object.entries(faults.rates) as Array<[FaultKindName, number | 'once']>) {
    if (familyOf(kind) !== 'device') continue;
    const span = n + 1 - first;
    const ats = rate === 'once' ? [first + Math.floor(rand() * span)] : Array.from({ length: span }, (_, i) => first + i).filter(() => rand() < rate);
    for (const at of ats) {
      const op = stepFor(kind, sc, rand, pick);
      if (op) inserts.push({ at, kind, op });
    }
  }
  inserts.sort((a, b) => a.at - b.at);
  const steps: Array<Record<string, unknown>> = [];
  const out: DeviceFault[] = [];
  let k = 0;
  const shift: number[] = [];
  for (let i = 0; i <= n; i++) {
    while (k < inserts.length && inserts[k]!.at === i) {
      const f = inserts[k++]!;
      out.push({ kind: f.kind, target: String(f.op.parent ?? f.op.mdev), step: steps.length, op: f.op });
      steps.push(f.op);
    }
    shift[i] = steps.length - i;
    if (i < n) {
      const { expect: _expect, ...rest } = sc.steps[i] as Record<string, unknown>;
      steps.push(rest);
    }
  }
  const doc: Record<string, unknown> = {
    ...withoutUndefined(sc as unknown as Record<string, unknown>),
    name: sc.name,
    description: `${sc.description.trim()}\n(chaos: ${out.length ? out.map((f) => `${f.kind} on ${f.target} at step ${f.step}`).join('; ') : 'no device fault'}; seed ${seed}; expectations dropped)`,
    steps,
    // a workload starts after a scenario step: the same step, moved by what was put before it
    workload: sc.workload.map((w) => ({ ...w, from: w.from + shift[w.from]! })),
  };
  delete doc.verdicts;
  delete doc.bug;
  // the schema's own checks (ids, $vars, setup rules) on the new steps, without the text round trip
  const parsed = ScenarioSchema.safeParse(doc);
  if (!parsed.success) throw new Error(`${file}: the scenario with its device faults is not a scenario (a bug of device-faults.ts): ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { scenario: parsed.data, yaml: () => stringify(doc), faults: out };
}

function withoutUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
}
