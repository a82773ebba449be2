import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BullMqProducer, parseJobPacket } from '../../libs/transport/src/index.js';
import { startPrivateRedis } from '../../libs/redis/src/index.js';
import { testPrefix } from '../support/redis.js';
import { deleteKeysWithPrefix } from './redis-keys.js';

const url = inject('redisUrl');
const prefix = testPrefix('transport-producer');
const opened: Array<{ close(): Promise<unknown> }> = [];

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
