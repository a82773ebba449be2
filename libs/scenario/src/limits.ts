import { groupsOf } from '../../contracts/src/index.js';
import type { Scenario } from './schema.js';
import { DEFAULTS, LIMIT_ENV, loadConfig, VARIABLES, type ScenarioLimits } from '../../config/src/index.js';

/**
 * How large a scenario may be. A scenario is operator input: every dimension that the planner, the
 * engines and the log grow with is bounded, and each bound can be raised by an environment variable
 * (issue 8: 200,000 generated steps overflowed the planner's stack, 400,000 took 44 s and 2.9 GB).
 * The defaults hold the corpus, the test fixtures and the bench's generated workloads (up to 4096
 * VMs, one mdev each, four VMs per parent) with room to spare. The variables, their defaults and
 * their checks are libs/config's, with every other setting.
 */
export { LIMIT_ENV, type ScenarioLimits };
export const DEFAULT_LIMITS: Readonly<ScenarioLimits> = DEFAULTS.limits;

/** The limits of an environment (libs/config: a malformed variable throws its ConfigError). */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): ScenarioLimits {
  return { ...loadConfig(env).limits };
}

/** "over the limit" in one phrasing everywhere: what, how many, the limit, and how to raise it. */
export function overLimit(k: keyof ScenarioLimits, what: string, limits: ScenarioLimits): string {
  return `${what}, over the limit of ${limits[k]} (set ${LIMIT_ENV[k]} to raise it)`;
}

/** One line per limit, for `run --help`: its variable, what it bounds and its default. */
export function limitsHelp(): string {
  return Object.values(LIMIT_ENV)
    .map((n) => `  ${n.padEnd(24)} ${VARIABLES[n].doc.replace(/\.$/, '').replace(/`/g, '')}; default ${VARIABLES[n].defaultText}`)
    .join('\n');
}

/**
 * The number of steps planRun makes of a scenario (libs/domain/src/orchestrator/plan.ts): the setup
 * the scenario leaves to the planner (one mdev_create per mdev, per VM one vfio_set_iommu and one
 * vfio_attach_group per group, less those marked `manual`), then the steps and the workload's ops.
 * A test holds the two equal.
 */
export function plannedStepCount(sc: Pick<Scenario, 'vms' | 'steps' | 'workload'>): number {
  let n = sc.steps.length;
  for (const vm of sc.vms) {
    for (const m of vm.mdevs) if (m.create !== 'manual') n++;
    if (vm.set_iommu !== 'manual') n++;
    for (const g of groupsOf(vm).values()) if (!g.manual) n++;
  }
  return n + workloadOpCount(sc);
}

export function workloadOpCount(sc: Pick<Scenario, 'workload'>): number {
  let n = 0;
  for (const w of sc.workload) n += w.count;
  return n;
}
