// Shrinking a finding (issue 12, point 5): the smallest scenario that still breaks the invariant.
export { shrinkScenario, NotReproducedError, type ShrinkOptions, type ShrinkResult } from './shrink.js';
export { policyLabel } from './finding.js';
export { formatSizes, sizeOf, type Size } from './size.js';
export type { Holds, Progress, Schedule } from './shrinker.js';
export type { ScenarioDoc } from '../../../scenario/src/index.js';
