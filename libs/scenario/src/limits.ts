import type { Scenario } from './schema.js';

/**
 * How large a scenario may be. A scenario is operator input: every dimension that the planner, the
 * engines and the log grow with is bounded, and each bound can be raised by an environment variable
 * (issue 8: 200,000 generated steps overflowed the planner's stack, 400,000 took 44 s and 2.9 GB).
 * The defaults hold the corpus, the test fixtures and the bench's generated workloads (up to 4096
 * VMs, one mdev each, four VMs per parent) with room to spare.
 */
export interface ScenarioLimits {
  /** bytes of the scenario file */
  bytes: number;
  /** entries of `steps` */
  steps: number;
  /** entries of `vms` */
  vms: number;
  /** mdevs over all VMs */
  mdevs: number;
  /** entries of `parents` */
  parents: number;
  /** ops the workload expands to: the sum of its entries' `count` */
  workloadOps: number;
  /** the run's planned steps: setup (mdev creation, container, groups) + steps + workload ops */
  plannedSteps: number;
  /** YAML alias expansion (the `yaml` package's maxAliasCount: uses x the aliases each one holds) */
  yamlAliases: number;
  /** nesting depth of YAML collections (a scenario needs 6) */
  yamlDepth: number;
}

export const DEFAULT_LIMITS: Readonly<ScenarioLimits> = Object.freeze({
  bytes: 8 * 1024 * 1024,
  // the bench's generator at its largest (4096 VMs, one round): 28,673 steps, 45,057 planned
  steps: 30_000,
  vms: 4096,
  mdevs: 4096,
  parents: 4096,
  workloadOps: 40_000,
  plannedSteps: 50_000,
  yamlAliases: 100,
  yamlDepth: 64,
});

/** The environment variable that sets each limit. */
export const LIMIT_ENV: Readonly<Record<keyof ScenarioLimits, string>> = Object.freeze({
  bytes: 'VSVA_MAX_SCENARIO_BYTES',
  steps: 'VSVA_MAX_STEPS',
  vms: 'VSVA_MAX_VMS',
  mdevs: 'VSVA_MAX_MDEVS',
  parents: 'VSVA_MAX_PARENTS',
  workloadOps: 'VSVA_MAX_WORKLOAD_OPS',
  plannedSteps: 'VSVA_MAX_PLANNED_STEPS',
  yamlAliases: 'VSVA_MAX_YAML_ALIASES',
  yamlDepth: 'VSVA_MAX_YAML_DEPTH',
});

/** A limit variable that is not a positive integer: bad input, like a bad flag. */
export class LimitConfigError extends Error {}

/** The limits, each from its environment variable when set (and not empty), else its default. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): ScenarioLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(LIMIT_ENV) as Array<keyof ScenarioLimits>) {
    const raw = env[LIMIT_ENV[k]];
    if (raw === undefined || raw.trim() === '') continue;
    if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
      throw new LimitConfigError(`${LIMIT_ENV[k]} must be a positive integer, got '${raw}' (default ${DEFAULT_LIMITS[k]})`);
    }
    out[k] = Number(raw);
  }
  return out;
}

/** "over the limit" in one phrasing everywhere: what, how many, the limit, and how to raise it. */
export function overLimit(k: keyof ScenarioLimits, what: string, limits: ScenarioLimits): string {
  return `${what}, over the limit of ${limits[k]} (set ${LIMIT_ENV[k]} to raise it)`;
}

/** One line per limit, for `run --help` and the README. */
export function limitsHelp(): string {
  const what: Record<keyof ScenarioLimits, string> = {
    bytes: 'bytes of the scenario file',
    steps: 'steps',
    vms: 'VMs',
    mdevs: 'mdevs (all VMs)',
    parents: 'parent devices',
    workloadOps: 'workload ops (sum of count)',
    plannedSteps: 'planned steps (setup + steps + workload ops)',
    yamlAliases: 'YAML alias expansion (maxAliasCount)',
    yamlDepth: 'YAML nesting depth',
  };
  return (Object.keys(LIMIT_ENV) as Array<keyof ScenarioLimits>)
    .map((k) => `  ${LIMIT_ENV[k].padEnd(24)} ${what[k]}, default ${DEFAULT_LIMITS[k]}`)
    .join('\n');
}

/**
 * The number of steps planRun makes of a scenario (libs/domain/src/orchestrator/plan.ts): one
 * mdev_create per mdev, per VM one vfio_set_iommu and one vfio_attach_group per group, then the steps
 * and the workload's ops. A test holds the two equal.
 */
export function plannedStepCount(sc: Pick<Scenario, 'vms' | 'steps' | 'workload'>): number {
  let n = sc.steps.length;
  for (const vm of sc.vms) {
    const groups = new Set<string>();
    for (const m of vm.mdevs) groups.add(m.group ?? m.id);
    n += vm.mdevs.length + 1 + groups.size;
  }
  return n + workloadOpCount(sc);
}

export function workloadOpCount(sc: Pick<Scenario, 'workload'>): number {
  let n = 0;
  for (const w of sc.workload) n += w.count;
  return n;
}
