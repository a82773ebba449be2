import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COMPONENTS, type Component, type Envelope, type LogEntry } from '../../libs/contracts/src/index.js';
import { ComponentHost, rebuildRuntime, snapshotOf, type Outbox } from '../../libs/runtime/src/index.js';
import { RedisRunLog, RedisSnapshotStore, snapshotKey } from '../../libs/event-log/src/index.js';
import { deletePrefix } from '../support/cluster.js';
import { testPrefix } from '../support/redis.js';
import { embeddedLoop, embeddedLoopOf, foldInMemory, writeRun } from './long-log.js';

const noOutbox = { sendAll: async () => {} } as unknown as Outbox;
const json = (x: unknown) => JSON.stringify(x);
/** An entry as a decision made it: without the wall clock (ts) and where it landed (seq, per log). */
const decision = ({ ts: _ts, seq: _seq, ...e }: LogEntry & { ts?: number }) => e;

let redis: Redis;
let prefix: string;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  prefix = testPrefix('snap');
});
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(inject('redisUrl'), prefix);
});

describe('snapshots never change behaviour', () => {
  const runId = 'snap-loop';
  let original: LogEntry[];
  beforeAll(async () => {
    original = await embeddedLoop(runId, 3);
  });

  for (const component of COMPONENTS) {
    it(`${component}: a host restarted from a snapshot records exactly what one that never stopped records`, async () => {
      const inputs = original.filter((e) => e.kind === 'input' && e.component === component).map((e) => e.payload as Envelope);
      const plain = new RedisRunLog(redis, { prefix: `${prefix}-plain-${component}` });
      const snapped = new RedisRunLog(redis, { prefix: `${prefix}-snapped-${component}` });
      const store = new RedisSnapshotStore(redis, snapped.prefix);
      // as the run coordinator leaves it once the run started: the data plane takes its inputs
      for (const l of [plain, snapped]) await l.openRun(runId, 'open');
      const steady = new ComponentHost(component, plain, noOutbox);
      for (const i of inputs) await steady.deliver(i);

      // the same inputs, with a snapshot every 25 entries and two restarts on the way
      const half = Math.floor(inputs.length / 2);
      const cut = [0, half, half + 3, inputs.length];
      let written = 0;
      let loaded = 0;
      for (let k = 0; k + 1 < cut.length; k++) {
        const host = new ComponentHost(component, snapped, noOutbox, { snapshots: store, snapshotEvery: 25 });
        for (const i of inputs.slice(cut[k], cut[k + 1])) await host.deliver(i);
        written += host.stats.snapshotsWritten;
        loaded += host.stats.snapshotsLoaded;
      }
      expect(written).toBeGreaterThan(0);
      expect(loaded).toBe(2);
      // state hashes included: the states folded through snapshots serialise to the same bytes
      expect((await snapped.read(runId)).map(decision)).toEqual((await plain.read(runId)).map(decision));
    });
  }

  it('a snapshot that the log does not confirm (a run deleted and recorded again under its id) is not used', async () => {
    const log = new RedisRunLog(redis, { prefix: `${prefix}-stale` });
    const store = new RedisSnapshotStore(redis, log.prefix);
    await writeRun(log, runId, original);
    const good = foldInMemory('vfio-type1', original, 200);
    expect(good.lastSeq).toBeGreaterThan(0);
    const whole = json(foldInMemory('vfio-type1', original).runtime);
    // this run's snapshot is used...
    await store.save(runId, snapshotOf('vfio-type1', good));
    const used = await rebuildRuntime('vfio-type1', log, runId, store);
    expect(used.fromSnapshot).toBe(good.lastSeq);
    expect(json(used.runtime)).toBe(whole);
    // ...another one at the same seq, naming another input there, is not
    await store.save(runId, snapshotOf('vfio-type1', { ...good, runtime: { ...good.runtime, counter: 999_999 }, lastEventId: 'in:someone-else' }));
    const r = await rebuildRuntime('vfio-type1', log, runId, store);
    expect(r.fromSnapshot).toBeUndefined();
    expect(json(r.runtime)).toBe(whole);
  });
});

describe('recovery time from a 100,000-entry log, with and without snapshot (printed, not asserted)', () => {
  const runId = 'snap-long';
  let entries: LogEntry[];
  let log: RedisRunLog;
  let store: RedisSnapshotStore;

  beforeAll(async () => {
    entries = await embeddedLoopOf(runId, 100_000);
    log = new RedisRunLog(redis, { prefix: `${prefix}-long` });
    store = new RedisSnapshotStore(redis, log.prefix);
    await writeRun(log, runId, entries);
  }, 120_000);

  it('rebuilds every component both ways to the same runtime, and prints the times', async () => {
    expect(await log.length(runId)).toBeGreaterThanOrEqual(100_000);
    const lines: string[] = [];
    for (const component of COMPONENTS as readonly Component[]) {
      const expected = json(foldInMemory(component, entries).runtime);
      let t = performance.now();
      const full = await rebuildRuntime(component, log, runId);
      const fullMs = performance.now() - t;
      expect(json(full.runtime)).toBe(expected);

      for (const every of [500, 2000, 10_000]) {
        // about the worst case for a snapshot every N entries: the last one is N entries behind the log's end
        const snap = snapshotOf(component, foldInMemory(component, entries, entries.length - every));
        t = performance.now();
        await store.save(runId, snap);
        const saveMs = performance.now() - t;
        const bytes = Buffer.byteLength(json(snap));
        t = performance.now();
        const fast = await rebuildRuntime(component, log, runId, store);
        const fastMs = performance.now() - t;
        expect(fast.fromSnapshot).toBe(snap.seq);
        expect(fast.inputs).toBe(full.inputs);
        expect(json(fast.runtime)).toBe(expected);
        lines.push(`${component.padEnd(13)} N=${String(every).padEnd(6)} full ${fullMs.toFixed(0).padStart(5)} ms (${full.inputs} inputs) | from snapshot ${fastMs.toFixed(1).padStart(6)} ms (${fast.folded} inputs, ${entries.length - snap.seq} entries after seq ${snap.seq}) | snapshot ${(bytes / 1024).toFixed(1)} KiB, written in ${saveMs.toFixed(2)} ms`);
      }
      await redis.del(snapshotKey(runId, component, log.prefix));
    }
    process.stderr.write(`[recovery] ${entries.length} entries\n${lines.map((l) => `[recovery] ${l}`).join('\n')}\n`);
  }, 120_000);
});
