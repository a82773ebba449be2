// Exploration (issue 12): programs generated from descriptions of the operations, swarm configurations,
// coverage-guided mutation, findings deduplicated by invariant and signature, and their shrinking.
export * from './generate/swarm.js';
export * from './generate/program.js';
export * from './generate/mutate.js';
export * from './generate/rand.js';
export * from './generate/ops.js';
export * from './coverage.js';
export * from './signature.js';
export * from './run-spec.js';
export * from './pool.js';
export * from './pool/index.js';
export * from './findings.js';
export * from './explore.js';
export * from './store.js';
export * from './quirks.js';
export * from './shrink/index.js';
