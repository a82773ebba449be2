import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BullMqClient, BullMqServer, type BullMqClientOptions } from '../../libs/transport/src/index.js';
import { EchoModule } from '../fixtures/transport/echo.controller.js';
import { testPrefix } from '../support/redis.js';
import { deleteKeysWithPrefix } from './redis-keys.js';

const url = inject('redisUrl');
const prefix = testPrefix('transport-hygiene');
const HOUR = 60 * 60;

let app: INestMicroservice;
let redis: Redis;
const opened: Array<{ close(): Promise<unknown> }> = [];

function client(options: Partial<BullMqClientOptions> & { queue: string }): BullMqClient {
  const c = new BullMqClient({ url, prefix, service: 'echo', timeoutMs: 15_000, ...options });
  opened.push(c);
  return c;
}
function queue(name: string): Queue {
  const q = new Queue(name, { connection: redis, prefix });
  opened.push(q);
  return q;
}
const echo = (c: BullMqClient, data: unknown) => firstValueFrom(c.send('echo', data));

/** Every Redis key of BullMQ queue `name` under the test's prefix. */
async function keysOf(name: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:${name}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch.filter((k) => k === `${prefix}:${name}` || k.startsWith(`${prefix}:${name}:`)));
  } while (cursor !== '0');
  return keys;
}

async function until<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  redis = new Redis(url, { maxRetriesPerRequest: null });
  app = await NestFactory.createMicroservice<MicroserviceOptions>(EchoModule, {
    strategy: new BullMqServer({ url, prefix, queues: [{ name: 'vsva.keep' }, { name: 'vsva.count' }, { name: 'vsva.close' }], logger: false }),
    logger: ['error'],
  });
  await app.listen();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((x) => x.close()));
  await app?.close();
  redis?.disconnect();
  await deleteKeysWithPrefix(url, prefix);
});

describe('queue hygiene', () => {
  it('every job the transport adds, replies included, is kept an hour (at most 1000) once completed, 7 days (at most 10 000) once failed', async () => {
    const c = client({ queue: 'vsva.keep' });
    expect(await echo(c, { n: 1 })).toEqual({ n: 1 });
    await c.dispatchEvent({ pattern: 'note', data: { n: 2 } });
    const retention = { removeOnComplete: { age: HOUR, count: 1000 }, removeOnFail: { age: 7 * 24 * HOUR, count: 10_000 } };
    const jobs = await until(async () => {
      const done = await queue('vsva.keep').getCompleted();
      return done.length === 2 ? done : undefined;
    });
    for (const job of jobs) expect(job.opts).toMatchObject(retention);
    const [reply] = await queue(c.getReplyQueue()).getCompleted();
    expect(reply!.opts).toMatchObject(retention);
  });

  it('completed jobs past the count are gone: only the last ones are kept', async () => {
    const c = client({ queue: 'vsva.count', removeOnComplete: { age: HOUR, count: 3 } });
    for (let i = 0; i < 10; i++) expect(await echo(c, { i })).toEqual({ i });
    const q = queue('vsva.count');
    // once nothing is waiting or active, all ten have completed, and the count was applied at each
    await until(async () => ((await q.getWaitingCount()) + (await q.getActiveCount()) === 0 ? true : undefined));
    const kept = await q.getCompleted();
    expect(kept.map((j) => (j.data as { data: { i: number } }).data.i).sort()).toEqual([7, 8, 9]);
    expect(await q.getCompletedCount()).toBe(3);
  });

  it('after a client closes, no key of its reply queue remains (the target queue stays)', async () => {
    const c = client({ queue: 'vsva.close' });
    for (let i = 0; i < 5; i++) await echo(c, { i });
    const replies = c.getReplyQueue();
    expect((await keysOf(replies)).length).toBeGreaterThan(0);
    await c.close();
    expect(await keysOf(replies)).toEqual([]);
    expect((await keysOf('vsva.close')).length).toBeGreaterThan(0);
    // the server still answers a new client
    expect(await echo(client({ queue: 'vsva.close' }), { again: true })).toEqual({ again: true });
  });
});
