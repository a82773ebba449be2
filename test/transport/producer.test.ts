import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BullMqProducer, parseJobPacket } from '../../libs/transport/src/index.js';
import { connectRedis, startPrivateRedis, startPrivateRedisCluster } from '../../libs/redis/src/index.js';
import { testPrefix } from '../support/redis.js';
import { deleteKeysWithPrefix } from './redis-keys.js';

const url = inject('redisUrl');
const prefix = testPrefix('transport-producer');
const opened: Array<{ close(): Promise<unknown> }> = [];

/** Jobs waiting in each named queue, read on a connection of the test's own. */
async function waiting(at: string, queues: string[]): Promise<number[]> {
  const r = connectRedis(at);
  try {
    return await Promise.all(queues.map(async (name) => {
      const q = new Queue(name, { connection: r, prefix });
      try {
        return await q.getWaitingCount();
      } finally {
        await q.close();
      }
    }));
  } finally {
    r.disconnect();
  }
}

afterAll(async () => {
  for (const o of opened) await o.close().catch(() => {});
  await deleteKeysWithPrefix(url, prefix);
});

describe('BullMqProducer (a service\'s outbox)', () => {
  it('adds to many queues over one connection the packet BullMqServer reads, and drops a re-sent id while the first job is kept', async () => {
    const p = new BullMqProducer({ url, prefix, attempts: 8, retryDelayMs: 250 });
    opened.push(p);
    await p.add('{q.a}', 'deliver', { n: 1 }, 'run-1.cmd-1');
    await p.add('{q.a}', 'deliver', { n: 2 }, 'run-1.cmd-1');
    await p.add('{q.b}', 'deliver', { n: 3 }, 'run-1.cmd-2');
    const redis = new Redis(url);
    try {
      const a = new Queue('{q.a}', { connection: redis, prefix });
      const b = new Queue('{q.b}', { connection: redis, prefix });
      opened.push(a, b);
      const [ja] = await a.getWaiting();
      expect(await a.getWaitingCount()).toBe(1);
      expect(parseJobPacket(ja!.data)).toMatchObject({ ok: true, packet: { pattern: 'deliver', data: { n: 1 } } });
      expect(ja!.opts).toMatchObject({ attempts: 8, backoff: { type: 'exponential', delay: 250 } });
      expect((await b.getWaiting())[0]!.id).toBe('run-1.cmd-2');
    } finally {
      redis.disconnect();
    }
  });


  it('adds a decision\'s jobs to several queues at once, each queue\'s in the order given, and drops an id it already holds', async () => {
    const p = new BullMqProducer({ url, prefix });
    opened.push(p);
    await p.add('{q.c}', 'deliver', { n: 0 }, 'run-2.cmd-0');
    const jobs = [1, 2, 3, 4, 5].map((n) => ({ queue: n % 2 ? '{q.c}' : '{q.d}', pattern: 'deliver', data: { n }, jobId: `run-2.cmd-${n}` }));
    // cmd-0 again, with other content: the job already there is kept
    await p.addAll([{ queue: '{q.c}', pattern: 'deliver', data: { n: 99 }, jobId: 'run-2.cmd-0' }, ...jobs]);
    const redis = new Redis(url);
    try {
      const c = new Queue('{q.c}', { connection: redis, prefix });
      const d = new Queue('{q.d}', { connection: redis, prefix });
      opened.push(c, d);
      // the jobs a Worker would take, in the order it would take them
      const inOrder = async (q: Queue) => (await q.getWaiting()).map((j) => (parseJobPacket(j.data) as { packet: { data: { n: number } } }).packet.data.n);
      expect(await inOrder(c)).toEqual([0, 1, 3, 5]);
      expect(await inOrder(d)).toEqual([2, 4]);
    } finally {
      redis.disconnect();
    }
  });
  it('on a Redis Cluster, the first adds of a fresh producer land (its connection is ready before BullMQ asks it anything)', async () => {
    const rc = await startPrivateRedisCluster({ masters: 3, appendonly: false });
    try {
      const p = new BullMqProducer({ url: rc.url, prefix });
      opened.push(p);
      await Promise.all(Array.from({ length: 12 }, (_, i) => p.add(`{q.rc${i % 4}}`, 'deliver', { i }, `r.${i}`)));
      expect(await waiting(rc.url, [0, 1, 2, 3].map((k) => `{q.rc${k}}`))).toEqual([3, 3, 3, 3]);
      await p.close();
    } finally {
      await rc.stop();
    }
  });

  it('an add that found Redis away leaves nothing broken: once Redis is there, the next add lands', async () => {
    const own = await startPrivateRedis({ appendonly: false });
    await own.stop();
    const p = new BullMqProducer({ url: own.url, prefix, readyTimeoutMs: 3000 });
    opened.push(p);
    await expect(p.add('{q.later}', 'deliver', { n: 1 }, 'l.1')).rejects.toThrow();
    const back = await startPrivateRedis({ appendonly: false, port: own.port });
    try {
      await p.add('{q.later}', 'deliver', { n: 2 }, 'l.2');
      expect(await waiting(back.url, ['{q.later}'])).toEqual([1]);
      await p.close();
    } finally {
      await back.stop();
    }
  });

  it('fails an add at once when Redis is gone, instead of holding it until Redis is back', async () => {
    const own = await startPrivateRedis({ appendonly: false });
    const p = new BullMqProducer({ url: own.url, prefix });
    opened.push(p);
    await p.add('{q.down}', 'deliver', { n: 1 }, 'x.1');
    await own.stop();
    let timer: NodeJS.Timeout | undefined;
    const held = new Promise<'held'>((r) => (timer = setTimeout(() => r('held'), 10_000)));
    const outcome = await Promise.race([p.add('{q.down}', 'deliver', { n: 2 }, 'x.2').then(() => 'added', (e: Error) => e.message), held]);
    clearTimeout(timer);
    expect(outcome).not.toBe('held');
    expect(outcome).not.toBe('added');
  });
});
