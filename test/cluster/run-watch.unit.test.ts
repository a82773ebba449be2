import { describe, expect, it } from 'vitest';
import { MemoryRunLog } from '../../libs/event-log/src/index.js';
import { RunWatch } from '../../libs/cluster/src/index.js';
import { entries } from '../event-log/support.js';

// The run coordinator waits on a RunWatch for its run to finish. A run whose start never shows in the
// log (its job done, its append lost) must not hold the orchestrator's control queue for ever.

describe('RunWatch.untilFinished', () => {
  it('gives a run up when its start is not in the log a step timeout after it was sent', async () => {
    const log = new MemoryRunLog();
    const watch = new RunWatch('never-started', 60, () => {});
    const t0 = Date.now();
    await expect(watch.untilFinished(log, 10)).rejects.toThrow(/run never-started: run.start was sent \d+ ms ago and the orchestrator has recorded none/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(60);
  });

  it('waits an outage out first: the clock starts when the infrastructure is back', async () => {
    const log = new MemoryRunLog();
    const back = Date.now() + 150;
    const watch = new RunWatch('late', 60, () => {}, () => back);
    const t0 = Date.now();
    await expect(watch.untilFinished(log, 10)).rejects.toThrow(/recorded none/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
  });

  it('keeps the log it read, from seq 1 in order, across pages and polls (the coordinator goes on from there)', async () => {
    const log = new MemoryRunLog();
    const runId = 'kept';
    await log.appendOnce(runId, 'a', entries(runId, 0, 5));
    const watch = new RunWatch(runId, 60_000, () => {});
    await watch.readLog(log, 2);
    await log.appendOnce(runId, 'b', entries(runId, 5, 2));
    await watch.readLog(log, 2);
    expect(watch.read).toEqual(await log.read(runId));
    expect(watch.read.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
