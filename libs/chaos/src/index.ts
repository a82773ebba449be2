// Chaos (issue 11): faults named or drawn from a seed, device faults as steps of the run, the checker
// that says whether the infrastructure lost or doubled anything, and the cluster nemesis's schedule
// and the faults it injected.
export * from './engine.js';
export * from './kinds.js';
export * from './fault-spec.js';
export * from './device-faults.js';
export * from './delivery-check.js';
export * from './chaos-run.js';
export * from './chaos-check.js';
export * from './outcome-compare.js';
export * from './embedded-chaos.js';
export * from './nemesis/schedule.js';
