// The embedded engine and what reads a run's log: replay, diff, the timeline.
export * from './embedded.js';
export * from './prng.js';
export * from './replay.js';
export * from './diff.js';
export * from './timeline.js';
export * from './faults.js';
