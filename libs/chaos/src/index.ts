// Chaos (issue 11): the cluster nemesis's schedule and the faults it injected.
export * from './nemesis/schedule.js';
export * from './nemesis/injected.js';
