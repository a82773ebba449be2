// Chaos (issue 11): the cluster nemesis's schedule.
export * from './nemesis/schedule.js';
