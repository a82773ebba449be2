import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LogEntry } from '../../libs/contracts/src/index.js';
import {
  MemoryRunLog,
  NdjsonError,
  RedisRunLog,
  RunClosedError,
  RunExistsError,
  RunLiveError,
  exportRun,
  importRun,
  openNdjson,
  readNdjson,
  writeNdjson,
  type ExportHeader,
} from '../../libs/event-log/src/index.js';
import { replayPages } from '../../libs/engine/src/index.js';
import { testPrefix } from '../support/redis.js';
import { deleteUnder, entries, meta, tempDir } from './support.js';

const RUN = 'export-run';

/** A valid export of `n` entries, as lines (header first). */
function exportLines(n: number): string[] {
  const header: ExportHeader = {
    format: 'vsva-sim-log',
    schemaVersion: 1,
    vsvaSimVersion: '0.1.0',
    runId: RUN,
    scenario: { name: 's' },
    policy: meta(RUN, 0).policy,
    seed: 7,
    engine: 'embedded',
    entries: n,
  };
  return [JSON.stringify(header), ...entries(RUN, 0, n).map((e, i) => JSON.stringify({ ...e, seq: i + 1 }))];
}

async function failure(file: string): Promise<NdjsonError> {
  const err = await readNdjson(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NdjsonError);
  return err as NdjsonError;
}

describe('NDJSON export and import', () => {
  const prefix = testPrefix('eventlog');
  const tmp = tempDir();
  let redis: Redis;
  let log: RedisRunLog;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    log = new RedisRunLog(redis, { prefix });
  });
  afterAll(async () => {
    await deleteUnder(redis, prefix);
    await redis.quit();
    tmp.remove();
  });

  it('reads a valid file back as written', async () => {
    const file = tmp.file('ok.ndjson');
    const lines = exportLines(5);
    writeFileSync(file, lines.join('\n') + '\n');
    const { header, entries: es } = await readNdjson(file);
    expect(header.runId).toBe(RUN);
    expect(es.map((e) => JSON.stringify(e))).toEqual(lines.slice(1));
  });

  it('names the line of a corrupted entry', async () => {
    const file = tmp.file('corrupt.ndjson');
    const lines = exportLines(6);
    lines[3] = lines[3]!.slice(0, 40); // line 4: truncated JSON
    writeFileSync(file, lines.join('\n') + '\n');
    const err = await failure(file);
    expect(err.line).toBe(4);
    expect(err.message).toContain(`${file}:4:`);
    expect(err.message).toMatch(/not valid JSON/);
  });

  it('names the line and the field of an entry that breaks the schema', async () => {
    const file = tmp.file('schema.ndjson');
    const lines = exportLines(4);
    lines[2] = JSON.stringify({ ...JSON.parse(lines[2]!), component: 'qemu', lamport: -1 });
    writeFileSync(file, lines.join('\n'));
    const err = await failure(file);
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/field 'component'/);
    expect(err.message).toMatch(/field 'lamport'/);
  });

  it('insists on sequences 1..N without gaps and on the header count', async () => {
    const gap = tmp.file('gap.ndjson');
    const lines = exportLines(6);
    lines.splice(3, 1); // seq 3 missing: line 4 (header is line 1) now holds seq 4
    writeFileSync(gap, lines.join('\n') + '\n');
    const err = await failure(gap);
    expect(err.line).toBe(4);
    expect(err.message).toMatch(/sequence 4 where 3 was expected/);
    expect(err.message).toMatch(/1\.\.N/);

    const short = tmp.file('short.ndjson');
    writeFileSync(short, exportLines(6).slice(0, 5).join('\n') + '\n');
    expect((await failure(short)).message).toMatch(/header says 6 entries, the file has 4/);
  });

  it('insists on a state hash on every input unless the header says none was recorded, and on no entry past the count', async () => {
    // entry 3 (seq 4) is an input: without its hash, replay could not check its state
    const unhashed = tmp.file('unhashed.ndjson');
    const lines = exportLines(6);
    const { stateHash: _h, ...bare } = JSON.parse(lines[4]!);
    lines[4] = JSON.stringify(bare);
    writeFileSync(unhashed, lines.join('\n') + '\n');
    const err = await failure(unhashed);
    expect(err.line).toBe(5);
    expect(err.message).toMatch(/input entry seq 4 has no state hash/);

    // a run recorded without hashes says so in its header, and then none may have one
    const noHashes = tmp.file('no-hashes.ndjson');
    const nl = exportLines(6).map((l, i) => (i === 0 ? JSON.stringify({ ...JSON.parse(l), stateHashes: false }) : JSON.stringify((({ stateHash: _s, ...e }) => e)(JSON.parse(l)))));
    writeFileSync(noHashes, nl.join('\n') + '\n');
    expect((await readNdjson(noHashes)).entries).toHaveLength(6);
    nl[1] = exportLines(6)[1]!; // seq 1, an input, with its hash
    writeFileSync(noHashes, nl.join('\n') + '\n');
    expect((await failure(noHashes)).message).toMatch(/:2: input entry seq 1 has a state hash, but the header says/);

    // more entries than announced: named where the first extra one is, before the file is read to its end
    const long = tmp.file('long.ndjson');
    const ll = exportLines(6);
    ll[0] = JSON.stringify({ ...JSON.parse(ll[0]!), entries: 4 });
    writeFileSync(long, ll.join('\n') + '\n');
    const e2 = await failure(long);
    expect(e2.line).toBe(6);
    expect(e2.message).toMatch(/entry seq 5 is beyond the 4 entries the header announces/);
  });

  it('writes stateHashes in the header: false for a run recorded without them, and refuses a log hashed only in part', async () => {
    const m = meta(RUN, 1, 'finished');
    const es: LogEntry[] = entries(RUN, 0, 9).map((e, i) => ({ ...e, seq: i + 1 }));
    const hashed = tmp.file('hashed.ndjson');
    expect((await writeNdjson(m, es, hashed, '0.1.0')).stateHashes).toBe(true);
    const bare = es.map(({ stateHash: _s, ...e }) => e as LogEntry);
    const plain = tmp.file('plain.ndjson');
    expect((await writeNdjson(m, bare, plain, '0.1.0')).stateHashes).toBe(false);
    expect((await readNdjson(plain)).header.stateHashes).toBe(false);
    const mixed = tmp.file('mixed.ndjson');
    await expect(writeNdjson(m, [es[0]!, ...bare.slice(1)], mixed, '0.1.0')).rejects.toThrow(/input seq 4 has no state hash but input seq 1 has one/);
    expect(existsSync(mixed)).toBe(false);
  });

  it('replay reads a file to its end: a file that is not whole is an error even when the re-fold diverged first', async () => {
    const short = tmp.file('short-replay.ndjson');
    // seq 1 is no input (the re-fold diverges there); the file is also 2 entries short
    const lines = exportLines(6).slice(0, 5);
    lines[1] = JSON.stringify({ ...JSON.parse(lines[1]!), kind: 'event' });
    writeFileSync(short, lines.join('\n') + '\n');
    const { pages } = await openNdjson(short);
    await expect(replayPages(pages)).rejects.toThrow(/header says 6 entries, the file has 4/);
  });

  it('import --replace refuses a live run and leaves it as it was', async () => {
    const file = tmp.file('live.ndjson');
    writeFileSync(file, exportLines(3).join('\n') + '\n');
    const target = new RedisRunLog(redis, { prefix: `${prefix}-live` });
    await target.putRunMeta(meta(RUN, 1, 'running'));
    await target.openRun(RUN, 'open');
    await target.appendInput(RUN, 'orchestrator|cli.start', entries(RUN, 0, 2), {});
    for (const state of ['open', 'draining'] as const) {
      await target.openRun(RUN, state);
      const err = await importRun(target, file, { replace: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunLiveError);
      expect((err as Error).message).toMatch(new RegExp(`run ${RUN} is live \\(its log is ${state}\\)`));
      expect(await target.length(RUN)).toBe(2);
    }
    // a meta that says running, with no state (a run of an older version), counts as live too
    const old = new MemoryRunLog();
    await old.putRunMeta(meta(RUN, 1, 'running'));
    await expect(importRun(old, file, { replace: true })).rejects.toThrow(/its run meta says running/);
    // once closed, it can be replaced
    await target.closeRun(RUN);
    expect((await importRun(target, file, { replace: true })).entries).toBe(3);
    expect(await target.runState(RUN)).toBe('closed');
  });

  it('rejects a bad header, an empty file, a missing file and an entry of another run', async () => {
    const bad = tmp.file('header.ndjson');
    const lines = exportLines(1);
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), format: 'csv' });
    writeFileSync(bad, lines.join('\n'));
    const e1 = await failure(bad);
    expect(e1.line).toBe(1);
    expect(e1.message).toMatch(/header.*field 'format'/);

    const empty = tmp.file('empty.ndjson');
    writeFileSync(empty, '');
    expect((await failure(empty)).message).toMatch(/empty file/);

    expect((await failure(tmp.file('absent.ndjson'))).message).toMatch(/cannot read.*ENOENT/);

    const other = tmp.file('other.ndjson');
    const ol = exportLines(2);
    ol[2] = JSON.stringify({ ...JSON.parse(ol[2]!), runId: 'other' });
    writeFileSync(other, ol.join('\n'));
    expect((await failure(other)).message).toMatch(/:3: entry of run 'other'/);
  });

  it('writes the same file from an array and from pages, and refuses gaps without leaving a file', async () => {
    const m = meta(RUN, 123, 'finished');
    const es: LogEntry[] = entries(RUN, 0, 2500).map((e, i) => ({ ...e, seq: i + 1 }));
    const a = tmp.file('a.ndjson');
    const b = tmp.file('b.ndjson');
    await writeNdjson(m, es, a, '0.1.0');
    async function* pages() {
      for (let i = 0; i < es.length; i += 700) yield es.slice(i, i + 700);
    }
    await writeNdjson(m, pages(), b, '0.1.0');
    const strip = (f: string) => readFileSync(f, 'utf8').replace(/"exportedAt":\d+,/, '');
    expect(strip(a)).toBe(strip(b));
    const { header, entries: back } = await readNdjson(b);
    expect(header).toMatchObject({ entries: 2500, startedAt: 123, status: 'finished', runId: RUN });
    expect(back).toEqual(es);

    const c = tmp.file('c.ndjson');
    await expect(writeNdjson(m, [es[0]!, es[2]!], c, '0.1.0')).rejects.toThrow(/seq 3 where 2/);
    expect(existsSync(c)).toBe(false);
    expect(existsSync(`${c}.${process.pid}.tmp`)).toBe(false);
  });

  it('round-trips a 12,000-entry run Redis -> file -> memory and back to Redis', async () => {
    const runId = 'big-run';
    let n = 0;
    for (let chunk = 0; chunk < 12; chunk++) {
      await log.appendMany(
        runId,
        Array.from({ length: 500 }, (_, i) => {
          const size = i % 3; // 0, 1 or 2 entries per input
          const b = { markerId: `in-${chunk}-${i}`, entries: entries(runId, n, size) };
          n += size;
          return b;
        }),
      );
    }
    expect(await log.length(runId)).toBe(n);
    await log.appendMany(
      runId,
      Array.from({ length: 12_000 - n }, (_, i) => ({ markerId: `tail-${i}`, entries: entries(runId, n + i, 1) })),
    );
    const m = meta(runId, 1_700_000_000_999, 'failed');
    await log.putRunMeta(m);
    const original = JSON.stringify(await log.read(runId));

    const f1 = tmp.file('big.ndjson');
    expect((await exportRun(log, runId, f1, '0.1.0')).entries).toBe(12_000);
    const mem = new MemoryRunLog();
    await importRun(mem, f1);
    expect(JSON.stringify(await mem.read(runId))).toBe(original);
    expect(await mem.getRunMeta(runId)).toEqual(m);

    const f2 = tmp.file('big2.ndjson');
    await exportRun(mem, runId, f2, '0.1.0');
    const target = new RedisRunLog(redis, { prefix: `${prefix}-target` });
    await importRun(target, f2);
    expect(JSON.stringify(await target.read(runId))).toBe(original);
    expect(await target.getRunMeta(runId)).toEqual(m);
    // an imported run is closed: read and replayed, never appended to
    expect(await target.runState(runId)).toBe('closed');
    await expect(target.appendOnce(runId, 'after-import', entries(runId, 12_000, 1))).rejects.toBeInstanceOf(RunClosedError);
    expect(await target.length(runId)).toBe(12_000);
  });

  it('refuses to import over an existing run unless replace, and a bad file touches nothing', async () => {
    const file = tmp.file('small.ndjson');
    writeFileSync(file, exportLines(3).join('\n') + '\n');
    const target = new MemoryRunLog();
    await target.appendOnce(RUN, 'existing', entries(RUN, 0, 5));
    await expect(importRun(target, file)).rejects.toBeInstanceOf(RunExistsError);
    expect(await target.length(RUN)).toBe(5);

    const broken = tmp.file('broken.ndjson');
    const lines = exportLines(3);
    lines[3] = '{oops';
    writeFileSync(broken, lines.join('\n'));
    await expect(importRun(target, broken, { replace: true })).rejects.toThrow(/broken\.ndjson:4:/);
    expect(await target.length(RUN)).toBe(5);

    const r = await importRun(target, file, { replace: true });
    expect(r.entries).toBe(3);
    expect(await target.length(RUN)).toBe(3);
    expect(await target.getRunMeta(RUN)).toMatchObject({ runId: RUN, engine: 'embedded', status: 'finished' });

    // a meta without entries also counts as an existing run
    const onlyMeta = new RedisRunLog(redis, { prefix: `${prefix}-meta` });
    await onlyMeta.putRunMeta(meta(RUN, 1));
    await expect(importRun(onlyMeta, file)).rejects.toThrow(/already exists/);
  });
});
