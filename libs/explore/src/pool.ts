import { executeRun, type ExploreRunResult, type ExploreRunSpec } from './run-spec.js';

/**
 * Who runs a batch of specs: this process, child processes on this machine, or explore-workers over
 * Redis. The results come back in the specs' order whoever ran them, so an exploration's findings
 * depend on its seed and budget, not on its workers.
 */
export interface RunPool {
  readonly name: string;
  readonly workers: number;
  run(specs: ExploreRunSpec[]): Promise<ExploreRunResult[]>;
  close(): Promise<void>;
}

/** Runs each spec here, one after the other. */
export function inlinePool(): RunPool {
  return {
    name: 'inline', workers: 1,
    async run(specs) {
      const out: ExploreRunResult[] = [];
      for (const s of specs) out.push(await executeRun(s));
      return out;
    },
    async close() {},
  };
}
