import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../libs/contracts/src/index.js';
import {
  MemoryRunLog,
  RunClosedError,
  exportRun,
  importRun,
  type BatchRunLog,
  type InputGate,
} from '../../libs/event-log/src/index.js';
import { entries, entry, meta, tempDir } from './support.js';

// The behaviour every run log shares, written once: redis-run-log.behaviour.test.ts runs it against
// RedisRunLog, memory-run-log.unit.test.ts against MemoryRunLog (no Redis).

/** One implementation under test: the suite below is written once and run against each. */
export interface Subject {
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** the log the tests write to */
  log(): BatchRunLog;
  /** n handles onto the same log (separate connections for Redis), for concurrency */
  peers(n: number): Promise<{ logs: BatchRunLog[]; close(): Promise<void> }>;
  /** an empty, separate log (fresh key prefix / fresh memory) */
  fresh(): BatchRunLog;
  /** the storage keys still holding anything of the run (Redis only) */
  leftovers?(runId: string): Promise<string[]>;
}

export function memorySubject(clone = true): Subject {
  let log = new MemoryRunLog({ clone });
  return {
    async setup() {
      log = new MemoryRunLog({ clone });
    },
    async teardown() {},
    log: () => log,
    async peers(n) {
      return { logs: Array.from({ length: n }, () => log), close: async () => {} };
    },
    fresh: () => new MemoryRunLog({ clone }),
  };
}

let runCounter = 0;
export const newRunId = () => `run-${process.pid}-${++runCounter}`;
export const seqs = (es: LogEntry[]) => es.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The run log's contract: numbering, append-once, ranges, dead letters, meta, delete, export/import. */
export const describeRunLog = (name: string, makeSubject: () => Subject) => describe(name, () => {
  const s = makeSubject();
  beforeAll(() => s.setup());
  afterAll(() => s.teardown());

  it('numbers entries 1..N across several appends and returns them whole', async () => {
    const log = s.log();
    const runId = newRunId();
    const sizes = [1, 3, 2, 4, 1];
    let n = 0;
    const returned: LogEntry[] = [];
    for (const [i, size] of sizes.entries()) {
      const r = await log.appendOnce(runId, `input-${i}`, entries(runId, n, size));
      expect(r.fresh).toBe(true);
      expect(seqs(r.entries)).toEqual(range(n + 1, n + size));
      returned.push(...r.entries);
      n += size;
    }
    expect(await log.length(runId)).toBe(11);
    const all = await log.read(runId);
    expect(seqs(all)).toEqual(range(1, 11));
    expect(all).toEqual(returned);
    all.forEach((e, i) => expect(e).toEqual({ ...entry(runId, i), seq: i + 1 }));
    // runId and seq lead, the rest keeps its order: the same JSON from every engine
    expect(Object.keys(all[2]!).slice(0, 4)).toEqual(['runId', 'seq', 'eventId', 'kind']);
  });

  it('appends once per marker: a redelivered input gets the recorded entries back', async () => {
    const log = s.log();
    const runId = newRunId();
    const first = await log.appendOnce(runId, 'job-1', entries(runId, 0, 3));
    await log.appendOnce(runId, 'job-2', entries(runId, 3, 1));
    // the second delivery decides differently: ignored, the first decision stands
    const again = await log.appendOnce(runId, 'job-1', entries(runId, 100, 5));
    expect(first.fresh).toBe(true);
    expect(again.fresh).toBe(false);
    expect(again.entries).toEqual(first.entries);
    expect(seqs(again.entries)).toEqual([1, 2, 3]);
    expect(await log.length(runId)).toBe(4);
    const next = await log.appendOnce(runId, 'job-3', entries(runId, 4, 1));
    expect(seqs(next.entries)).toEqual([5]);
  });

  it('20 concurrent deliveries of one input append exactly once', async () => {
    const runId = newRunId();
    const { logs, close } = await s.peers(5);
    try {
      await logs[0]!.appendOnce(runId, 'before', entries(runId, 0, 2));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => logs[i % logs.length]!.appendOnce(runId, 'dup', entries(runId, 2, 3))),
      );
      expect(results.filter((r) => r.fresh)).toHaveLength(1);
      for (const r of results) expect(seqs(r.entries)).toEqual([3, 4, 5]);
      for (const r of results) expect(r.entries).toEqual(results[0]!.entries);
      // where the input's entries start, the fresh append's and every repeat's, without decoding them
      for (const r of results) expect(r.firstSeq).toBe(3);
      const log = s.log();
      expect(await log.length(runId)).toBe(5);
      expect(seqs(await log.read(runId))).toEqual([1, 2, 3, 4, 5]);
      expect((await log.read(runId)).map((e) => e.eventId)).toEqual(['ev-0', 'ev-1', 'ev-2', 'ev-3', 'ev-4']);
    } finally {
      await close();
    }
  });

  it('records markers of inputs that produced no entries', async () => {
    const log = s.log();
    const runId = newRunId();
    const empty = await log.appendOnce(runId, 'nothing-0', []);
    expect(empty).toEqual({ fresh: true, entries: [] });
    expect(seqs((await log.appendOnce(runId, 'two', entries(runId, 0, 2))).entries)).toEqual([1, 2]);
    expect(await log.appendOnce(runId, 'nothing-0', entries(runId, 50, 2))).toEqual({ fresh: false, entries: [] });
    expect(await log.appendOnce(runId, 'nothing-2', [])).toEqual({ fresh: true, entries: [] });
    expect(await log.appendOnce(runId, 'nothing-2', [])).toEqual({ fresh: false, entries: [] });
    expect(seqs((await log.appendOnce(runId, 'one', entries(runId, 2, 1))).entries)).toEqual([3]);
    expect(await log.appendOnce(runId, 'nothing-2', [])).toEqual({ fresh: false, entries: [] });
    expect(seqs(await log.read(runId))).toEqual([1, 2, 3]);
  });

  it('reads ranges and pages over 5,000 entries', async () => {
    const log = s.log();
    const runId = newRunId();
    // appendMany with batches of 1..5 entries (and some empty ones)
    let n = 0;
    let b = 0;
    while (n < 5000) {
      const batches = [];
      for (let k = 0; k < 200 && n < 5000; k++, b++) {
        const size = Math.min(b % 6, 5000 - n);
        batches.push({ markerId: `m-${b}`, entries: entries(runId, n, size) });
        n += size;
      }
      const res = await log.appendMany(runId, batches);
      expect(res.every((r) => r.fresh)).toBe(true);
    }
    expect(await log.length(runId)).toBe(5000);
    expect(seqs(await log.read(runId, 1, 10))).toEqual(range(1, 10));
    expect(seqs(await log.read(runId, 4990))).toEqual(range(4990, 5000));
    expect(seqs(await log.read(runId, undefined, 3))).toEqual([1, 2, 3]);
    expect(seqs(await log.read(runId, 2500, 2500))).toEqual([2500]);
    expect(await log.read(runId, 10, 5)).toEqual([]);
    expect(await log.read(runId, 6000)).toEqual([]);
    expect(await log.read(runId, 1, 0)).toEqual([]);
    expect(seqs(await log.read(runId, 0, 2))).toEqual([1, 2]);
    expect(seqs(await log.read(runId, 4999, 99_999))).toEqual([4999, 5000]);
    const mid = await log.read(runId, 1234, 1236);
    expect(mid).toEqual([1233, 1234, 1235].map((i, k) => ({ ...entry(runId, i), seq: 1234 + k })));

    const sizesOf = async (pageSize?: number) => {
      const sizes: number[] = [];
      const all: number[] = [];
      for await (const page of log.readPages(runId, pageSize)) {
        sizes.push(page.length);
        all.push(...seqs(page));
      }
      expect(all).toEqual(range(1, 5000));
      return sizes;
    };
    expect(await sizesOf()).toEqual([1000, 1000, 1000, 1000, 1000]);
    expect(await sizesOf(777)).toEqual([777, 777, 777, 777, 777, 777, 338]);
    expect(await sizesOf(5000)).toEqual([5000]);
    expect(await sizesOf(10_000)).toEqual([5000]);
    const none: LogEntry[][] = [];
    for await (const page of log.readPages(newRunId())) none.push(page);
    expect(none).toEqual([]);
  });

  it('keeps dead letters with their reason and raw payload', async () => {
    const log = s.log();
    const runId = newRunId();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const before = Date.now();
    await log.deadLetter(runId, 'payload.pasid: expected number', { type: 'PASID_FREE', payload: { pasid: 'x' } });
    await log.deadLetter(runId, 'not JSON', '{"half":');
    await log.deadLetter(runId, 'empty job', undefined);
    await log.deadLetter(runId, 'cyclic', cyclic);
    const dl = await log.readDeadLetters(runId);
    expect(dl.map((d) => d.reason)).toEqual(['payload.pasid: expected number', 'not JSON', 'empty job', 'cyclic']);
    expect(dl[0]!.raw).toEqual({ type: 'PASID_FREE', payload: { pasid: 'x' } });
    expect(dl[1]!.raw).toBe('{"half":');
    expect(dl[2]!.raw).toBeUndefined();
    expect(String(dl[3]!.raw)).toContain('Circular');
    for (const d of dl) expect(d.ts).toBeGreaterThanOrEqual(before);
    expect(await log.length(runId)).toBe(0);
    expect(await log.readDeadLetters(newRunId())).toEqual([]);
  });

  it('stores run meta and lists runs newest first', async () => {
    const log = s.fresh();
    const [a, b, c] = [newRunId(), newRunId(), newRunId()];
    await log.putRunMeta(meta(a, 1000));
    await log.putRunMeta(meta(c, 3000));
    await log.putRunMeta(meta(b, 2000));
    expect(await log.getRunMeta(b)).toEqual(meta(b, 2000));
    expect(await log.getRunMeta(newRunId())).toBeUndefined();
    expect((await log.listRuns()).map((m) => m.runId)).toEqual([c, b, a]);
    await log.putRunMeta(meta(a, 1000, 'finished'));
    const listed = await log.listRuns();
    expect(listed).toHaveLength(3);
    expect(listed[2]).toEqual(meta(a, 1000, 'finished'));
  });

  it('deleteRun removes everything of the run and nothing else', async () => {
    const log = s.log();
    const [runId, other] = [newRunId(), newRunId()];
    for (const id of [runId, other]) {
      await log.appendOnce(id, 'x', entries(id, 0, 3));
      await log.appendOnce(id, 'empty', []);
      await log.deadLetter(id, 'bad', { x: 1 });
      await log.putRunMeta(meta(id, Date.now()));
    }
    await log.deleteRun(runId);
    expect(await log.length(runId)).toBe(0);
    expect(await log.read(runId)).toEqual([]);
    expect(await log.readDeadLetters(runId)).toEqual([]);
    expect(await log.getRunMeta(runId)).toBeUndefined();
    expect((await log.listRuns()).map((m) => m.runId)).not.toContain(runId);
    if (s.leftovers) expect(await s.leftovers(runId)).toEqual([]);
    // the other run is intact
    expect(await log.length(other)).toBe(3);
    expect(await log.getRunMeta(other)).toBeDefined();
    // the id starts over: markers and sequences are gone too
    const again = await log.appendOnce(runId, 'x', entries(runId, 0, 2));
    expect(again.fresh).toBe(true);
    expect(seqs(again.entries)).toEqual([1, 2]);
    await log.deleteRun(runId);
    await log.deleteRun(other);
    if (s.leftovers) expect(await s.leftovers(other)).toEqual([]);
  });

  it('exports and imports a run into a fresh log unchanged', async () => {
    const log = s.log();
    const runId = newRunId();
    for (let i = 0; i < 30; i++) await log.appendOnce(runId, `in-${i}`, entries(runId, i * 5, (i % 4) + 1));
    const m = meta(runId, 1_700_000_123_456, 'finished');
    await log.putRunMeta(m);
    const tmp = tempDir();
    try {
      const file = tmp.file('run.ndjson');
      const header = await exportRun(log, runId, file, '0.1.0');
      expect(header.entries).toBe(await log.length(runId));
      const target = s.fresh();
      const imported = await importRun(target, file);
      expect(imported.entries).toBe(header.entries);
      const original = await log.read(runId);
      const copy = await target.read(runId);
      expect(JSON.stringify(copy)).toBe(JSON.stringify(original)); // ts and key order included
      expect(copy.every((e) => typeof e.ts === 'number')).toBe(true);
      expect(await target.getRunMeta(runId)).toEqual(m);
      expect(await target.listRuns()).toEqual([m]);
    } finally {
      tmp.remove();
    }
  });

  it('rejects entries of another run and bad markers, appending nothing', async () => {
    const log = s.log();
    const runId = newRunId();
    await expect(log.appendOnce(runId, 'm', [entry(runId, 0), entry('someone-else', 1)])).rejects.toThrow(
      /someone-else/,
    );
    await expect(log.appendOnce(runId, '', [entry(runId, 0)])).rejects.toThrow(/marker/);
    await expect(log.appendOnce('with{brace}', 'm', [])).rejects.toThrow(/braces/);
    expect(await log.length(runId)).toBe(0);
    expect((await log.appendOnce(runId, 'm', [entry(runId, 0)])).fresh).toBe(true);
  });

  it('appendMany applies the good batches and reports the first bad one', async () => {
    const log = s.log();
    const runId = newRunId();
    await expect(
      log.appendMany(runId, [
        { markerId: 'a', entries: entries(runId, 0, 2) },
        { markerId: 'b', entries: [entry('intruder', 2)] },
        { markerId: 'c', entries: entries(runId, 2, 1) },
      ]),
    ).rejects.toThrow(/marker b/);
    expect(seqs(await log.read(runId))).toEqual([1, 2, 3]);
    const again = await log.appendMany(runId, [
      { markerId: 'a', entries: [] },
      { markerId: 'c', entries: [] },
      { markerId: 'd', entries: entries(runId, 3, 1) },
    ]);
    expect(again.map((r) => [r.fresh, seqs(r.entries)])).toEqual([
      [false, [1, 2]],
      [false, [3]],
      [true, [4]],
    ]);
  });
});

/** The run-state gate: a run opens with run.start, drains after run.finished, then closes. */
export const describeClosedDataPlane = (name: string, makeSubject: () => Subject) => describe(`${name}: a closed data plane`, () => {
  const s = makeSubject();
  beforeAll(() => s.setup());
  afterAll(() => s.teardown());
  const input: InputGate = {};
  const start: InputGate = { start: true };
  /** entry n of the fixture as a command to host-vtd with its own id */
  const command = (runId: string, n: number, id: string) => entry(runId, n, { eventId: id, kind: 'command', to: 'host-vtd', type: 'iommu_sva_bind_gpasid' });
  const proof = (seq: number, eventId: string) => ({ seq, eventId, type: 'iommu_sva_bind_gpasid', from: 'vfio-type1', to: 'host-vtd' });

  it('an input for a run never opened is refused and leaves nothing behind', async () => {
    const log = s.log();
    const runId = newRunId();
    expect(await log.appendInput(runId, 'host-vtd|x', entries(runId, 0, 2), input)).toEqual({ refused: 'unknown', fresh: false, entries: [] });
    expect(await log.appendInput(runId, 'orchestrator|cli.start', entries(runId, 0, 2), start)).toMatchObject({ refused: 'unknown' });
    expect(await log.length(runId)).toBe(0);
    expect(await log.runState(runId)).toBeUndefined();
    expect(await log.listRuns()).not.toContainEqual(expect.objectContaining({ runId }));
    if (s.leftovers) expect(await s.leftovers(runId)).toEqual([]);
  });

  it('a run that is ready takes run.start first and nothing else; then it is open', async () => {
    const log = s.log();
    const runId = newRunId();
    expect(await log.openRun(runId)).toBe('ready');
    expect(await log.appendInput(runId, 'host-vtd|x', entries(runId, 0, 1), input)).toMatchObject({ refused: 'not-started' });
    expect(await log.length(runId)).toBe(0);
    const r = await log.appendInput(runId, 'orchestrator|cli.start', entries(runId, 0, 2), start);
    expect(r.refused).toBeUndefined();
    expect(seqs(r.entries)).toEqual([1, 2]);
    expect(await log.runState(runId)).toBe('open');
    expect((await log.appendInput(runId, 'host-vtd|x', entries(runId, 2, 1), input)).fresh).toBe(true);
    // a coordinator that opens the run again (its successor) never moves it back
    expect(await log.openRun(runId, 'ready')).toBe('open');
    expect(await log.runState(runId)).toBe('open');
  });

  it('an input decided on a state older than the log\'s is refused as stale, and the log is unchanged', async () => {
    const log = s.log();
    const runId = newRunId();
    await log.openRun(runId, 'open');
    const host = (seq: number): InputGate => ({ after: { component: 'host-vtd', seq } });
    // two processes both saw host-vtd with no input yet; the first lands and becomes the component's last
    const a = await log.appendInput(runId, 'host-vtd|a', entries(runId, 0, 2), host(0));
    expect(seqs(a.entries)).toEqual([1, 2]);
    const before = await log.read(runId);
    expect(await log.appendInput(runId, 'host-vtd|b', entries(runId, 2, 1), host(0))).toEqual({ refused: 'stale', fresh: false, entries: [] });
    expect(await log.read(runId)).toEqual(before);
    // decided again on the state after seq 1: it lands, and a redelivery of `a` is still answered from its marker
    expect(seqs((await log.appendInput(runId, 'host-vtd|b', entries(runId, 2, 1), host(1))).entries)).toEqual([3]);
    expect(await log.appendInput(runId, 'host-vtd|a', entries(runId, 0, 2), host(0))).toMatchObject({ fresh: false, entries: a.entries });
    // each component has its own head; an append that names none is not checked
    expect((await log.appendInput(runId, 'vfio-type1|c', entries(runId, 3, 1), { after: { component: 'vfio-type1', seq: 0 } })).fresh).toBe(true);
    expect((await log.appendInput(runId, 'host-vtd|d', entries(runId, 4, 1), input)).fresh).toBe(true);
  });

  it('after run.finished only an input that consumes a recorded command lands, and after close nothing does', async () => {
    const log = s.log();
    const runId = newRunId();
    await log.openRun(runId, 'open');
    await log.appendInput(runId, 'vfio-type1|a', [entry(runId, 0), command(runId, 1, 'vfio.1'), command(runId, 2, 'vfio.2')], input);
    await log.appendInput(runId, 'host-vtd|vfio.1', [entry(runId, 3)], input);
    // the orchestrator's input whose outputs record run.finished: the log is draining from here
    await log.appendInput(runId, 'orchestrator|z', [entry(runId, 4, { type: 'run.finished', kind: 'event' })], { finishes: true });
    expect(await log.runState(runId)).toBe('draining');
    const before = await log.read(runId);
    // a forged input: no proof, a proof that names no command, a proof at the wrong seq, or of another receiver
    expect(await log.appendInput(runId, 'host-vtd|forged.1', [entry(runId, 9)], input)).toMatchObject({ refused: 'finished' });
    expect(await log.appendInput(runId, 'host-vtd|forged.1', [entry(runId, 9)], { consumes: proof(1, 'forged.1') })).toMatchObject({ refused: 'finished' });
    expect(await log.appendInput(runId, 'host-vtd|vfio.2', [entry(runId, 9)], { consumes: proof(2, 'vfio.2') })).toMatchObject({ refused: 'finished' });
    expect(await log.appendInput(runId, 'host-vtd|vfio.2', [entry(runId, 9)], { consumes: { ...proof(3, 'vfio.2'), to: 'mdev-parent' } })).toMatchObject({ refused: 'finished' });
    expect(await log.appendInput(runId, 'host-vtd|vfio.2', [entry(runId, 9)], { consumes: proof(99, 'vfio.2') })).toMatchObject({ refused: 'finished' });
    // the owner's append is refused too
    await expect(log.appendOnce(runId, 'raw', [entry(runId, 9)])).rejects.toBeInstanceOf(RunClosedError);
    expect(await log.read(runId)).toEqual(before);
    // the unwind in flight: the command recorded at seq 3
    expect((await log.findCommand(runId, 'vfio.2'))?.seq).toBe(3);
    expect(await log.findCommand(runId, 'forged.1')).toBeUndefined();
    const unwind = await log.appendInput(runId, 'host-vtd|vfio.2', [entry(runId, 5)], { consumes: proof(3, 'vfio.2') });
    expect(unwind.fresh).toBe(true);
    expect(seqs(unwind.entries)).toEqual([6]);
    await log.closeRun(runId);
    expect(await log.runState(runId)).toBe('closed');
    const final = await log.read(runId);
    expect(await log.appendInput(runId, 'host-vtd|vfio.9', [entry(runId, 9)], { consumes: proof(3, 'vfio.2') })).toMatchObject({ refused: 'closed' });
    await expect(log.appendOnce(runId, 'raw', [])).rejects.toThrow(/closed/);
    // a redelivery is answered from its marker in every state: nothing appended
    expect(await log.appendInput(runId, 'host-vtd|vfio.2', [entry(runId, 77)], input)).toEqual({ fresh: false, entries: unwind.entries, firstSeq: 6 });
    expect(await log.read(runId)).toEqual(final);
    // reopening a closed run is not possible; deleting it is
    expect(await log.openRun(runId, 'open')).toBe('closed');
    await log.deleteRun(runId);
    expect(await log.runState(runId)).toBeUndefined();
  });

  it('run.start whose outputs already finish the run leaves it draining', async () => {
    const log = s.log();
    const runId = newRunId();
    await log.openRun(runId);
    await log.appendInput(runId, 'orchestrator|cli.start', entries(runId, 0, 1), { start: true, finishes: true });
    expect(await log.runState(runId)).toBe('draining');
  });
});
