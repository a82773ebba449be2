export { runBench, type BenchOptions } from './runner.js';
export { PLANS, type BenchPlan } from './plan.js';
export { formatTable } from './table.js';
export { lineProgress } from './progress.js';
export { generatedScenario, type WorkloadShape } from './workload.js';
export type { BenchResult, Figure, Machine, Progress, Spread, Goal } from './types.js';
