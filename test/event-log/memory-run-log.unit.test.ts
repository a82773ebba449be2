import { describe, expect, it } from 'vitest';
import { MemoryRunLog } from '../../libs/event-log/src/index.js';
import { describeClosedDataPlane, describeRunLog, memorySubject, newRunId, seqs } from './run-log.behaviour.js';
import { entries } from './support.js';

// The shared run-log behaviour against the embedded engine's in-memory log (no Redis);
// redis-run-log.behaviour.test.ts runs the same suite against RedisRunLog.
for (const clone of [true, false]) {
  const name = clone ? 'MemoryRunLog' : 'MemoryRunLog (clone: false)';
  describeRunLog(name, () => memorySubject(clone));
  describeClosedDataPlane(name, () => memorySubject(clone));
}

describe('MemoryRunLog synchronous API', () => {
  it('appends and reads without a promise, and hands out frozen entries', () => {
    const log = new MemoryRunLog();
    const runId = newRunId();
    const input = entries(runId, 0, 3);
    const r = log.appendOnceSync(runId, 'a', input);
    expect(seqs(r.entries)).toEqual([1, 2, 3]);
    expect(log.appendOnceSync(runId, 'a', []).fresh).toBe(false);
    expect(log.lengthSync(runId)).toBe(3);
    expect(seqs(log.readSync(runId, 2))).toEqual([2, 3]);
    const e = log.readSync(runId, 1, 1)[0]!;
    expect(Object.isFrozen(e)).toBe(true);
    expect(() => {
      (e as { type: string }).type = 'changed';
    }).toThrow();
    // the caller's objects are not the log's (clone on by default)
    (input[0]!.payload as { n: number }).n = 999;
    expect((log.readSync(runId, 1, 1)[0]!.payload as { n: number }).n).toBe(0);
  });
});
