import { RedisRunLog, runKeys, runsIndexKey, snapshotKey } from '../../libs/event-log/src/index.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testPrefix } from '../support/redis.js';
import { deleteUnder, entries, keysUnder, meta } from './support.js';

describe('RedisRunLog storage', () => {
  const prefix = testPrefix('eventlog');
  let redis: Redis;
  let log: RedisRunLog;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'));
    log = new RedisRunLog(redis, { prefix });
  });
  afterAll(async () => {
    await deleteUnder(redis, prefix);
    await redis.quit();
  });

  it('names keys with the run id as a hash tag under the prefix', () => {
    expect(runKeys('r1')).toEqual({
      log: 'vsva:{r1}:log',
      marks: 'vsva:{r1}:marks',
      seq: 'vsva:{r1}:seq',
      dlq: 'vsva:{r1}:dlq',
      meta: 'vsva:{r1}:meta',
      state: 'vsva:{r1}:state',
      heads: 'vsva:{r1}:heads',
    });
    expect(runsIndexKey()).toBe('vsva:runs');
    expect(log.keys('r1').log).toBe(`${prefix}:{r1}:log`);
    expect(() => runKeys('a}b')).toThrow(/braces/);
    expect(() => runKeys('')).toThrow(/non-empty/);
    expect(() => new RedisRunLog(redis, { prefix: 'x{y}' })).toThrow(/prefix/);
  });

  it('stores each entry under stream id seq-0 with its full JSON, and markers as first,last', async () => {
    const runId = 'layout';
    await log.appendOnce(runId, 'in-a', entries(runId, 0, 2));
    await log.appendOnce(runId, 'in-empty', []);
    await log.appendOnce(runId, 'in-b', entries(runId, 2, 1));
    const k = log.keys(runId);
    const rows = (await redis.xrange(k.log, '-', '+')) as Array<[string, string[]]>;
    expect(rows.map(([id]) => id)).toEqual(['1-0', '2-0', '3-0']);
    const stored = JSON.parse(rows[1]![1][1]!);
    expect(rows[1]![1][0]).toBe('e');
    expect(stored).toMatchObject({ runId, seq: 2, eventId: 'ev-1' });
    expect(await redis.hgetall(k.marks)).toEqual({ 'in-a': '1,2', 'in-empty': '3,2', 'in-b': '3,3' });
    expect(await redis.get(k.seq)).toBe('3');
    await log.putRunMeta(meta(runId, 5));
    expect(await redis.zscore(runsIndexKey(prefix), runId)).toBe('5');
    expect(await keysUnder(redis, `${prefix}*`)).toEqual(
      [k.log, k.marks, k.meta, k.seq, runsIndexKey(prefix)].sort(),
    );
    // a component's snapshot lives beside the log and goes with it
    await redis.set(snapshotKey(runId, 'vfio-type1', prefix), '{}');
    await log.deleteRun(runId);
    expect(await keysUnder(redis, `${prefix}*`)).toEqual([]);
  });

  it('survives SCRIPT FLUSH (EVALSHA reloads the script)', async () => {
    const runId = 'flush';
    await log.appendOnce(runId, 'a', entries(runId, 0, 1));
    await redis.script('FLUSH');
    expect((await log.appendOnce(runId, 'b', entries(runId, 1, 1))).entries[0]!.seq).toBe(2);
    await redis.script('FLUSH');
    const many = await log.appendMany(runId, [
      { markerId: 'c', entries: entries(runId, 2, 1) },
      { markerId: 'a', entries: [] },
    ]);
    expect(many.map((r) => r.entries[0]!.seq)).toEqual([3, 1]);
  });

  it('readAfter follows a run: what is there after a seq at once, else the next append as soon as it lands, else nothing by the deadline', async () => {
    const runId = 'follow';
    const follower = RedisRunLog.fromUrl(inject('redisUrl'), { prefix });
    try {
      await log.appendOnce(runId, 'a', entries(runId, 0, 3));
      expect((await follower.readAfter(runId, 1, 1000)).map((e) => e.seq)).toEqual([2, 3]);
      expect(await follower.readAfter(runId, 3, 50)).toEqual([]);
      const waiting = follower.readAfter(runId, 3, 10_000);
      await log.appendOnce(runId, 'b', entries(runId, 3, 2));
      expect((await waiting).map((e) => [e.seq, e.eventId])).toEqual([[4, 'ev-3'], [5, 'ev-4']]);
      expect(await follower.readAfter('no-such-run', 0, 50)).toEqual([]);
    } finally {
      await follower.close();
    }
  });

  it('fromUrl owns its connection; a passed-in connection stays open on close()', async () => {
    const own = RedisRunLog.fromUrl(inject('redisUrl'), { prefix });
    expect(await own.length('nothing')).toBe(0);
    await own.close();
    expect(own.redis.status).toBe('end');
    await log.close();
    expect(await redis.ping()).toBe('PONG');
  });
});
