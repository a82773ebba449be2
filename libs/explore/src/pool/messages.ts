import type { ExploreRunResult, ExploreRunSpec } from '../run-spec.js';

/** What a parent sends its child worker (child.ts) over the IPC channel. */
export type ToChild = { type: 'run'; spec: ExploreRunSpec };

/** What the child answers: once when it can take runs, then one result per run. */
export type FromChild = { type: 'ready' } | { type: 'result'; result: ExploreRunResult };
