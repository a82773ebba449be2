import type { RunPool } from '../pool.js';
import { ChildWorkers, type ChildWorkersOptions } from './child-workers.js';

/**
 * `--workers N`: N child processes on this machine share each batch, one run at a time each, and the
 * results come back in the specs' order. A child that dies (or overruns its deadline) fails the
 * batch with its cause; the pool replaces it for the next batch. `close()` stops them; they also stop
 * when this process is gone, whatever ended it (their IPC channel closes).
 */
export function processPool(n: number, o: ChildWorkersOptions = {}): RunPool & { pids(): number[] } {
  const children = new ChildWorkers(n, o);
  return {
    name: 'process', workers: n,
    pids: () => children.pids(),
    async run(specs) {
      let failed = false;
      return Promise.all(specs.map((s) => children.runOne(s, () => failed).catch((e: unknown) => {
        failed = true;
        throw e;
      })));
    },
    close: () => children.close(),
  };
}
