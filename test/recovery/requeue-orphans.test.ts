import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { requeueOrphans, type RecoveryConfig } from '../../libs/cluster/src/index.js';
import { deletePrefix } from '../support/cluster.js';
import { testPrefix } from '../support/redis.js';

const rc: RecoveryConfig = { lockMs: 400, stalledMs: 100, maxStalledCount: 10, snapshotEvery: 0 };
let url: string;
let prefix: string;
let connection: Redis;

beforeAll(() => {
  url = inject('redisUrl');
  prefix = testPrefix('orphans');
  connection = new Redis(url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  connection.disconnect();
  await deletePrefix(url, prefix);
});

/** Job A taken by a consumer that then dies holding it (its lock lapses after lockMs), job B queued behind it. */
async function orphanA(queue: string): Promise<void> {
  const q = new Queue(queue, { connection, prefix });
  await q.add('A', {});
  const dead = new Worker(queue, null, { connection, prefix, autorun: false, lockDuration: rc.lockMs });
  expect((await dead.getNextJob('dead-token'))?.name).toBe('A');
  await dead.close();
  await q.add('B', {});
  await q.close();
}

/** The order in which a new consumer (concurrency 1, as a data queue) takes the two jobs. */
async function consumeOrder(queue: string): Promise<string[]> {
  const order: string[] = [];
  let done!: () => void;
  const both = new Promise<void>((r) => (done = r));
  const w = new Worker(queue, async (job: Job) => {
    order.push(job.name);
    if (order.length === 2) done();
  }, { connection, prefix, concurrency: 1, lockDuration: rc.lockMs, stalledInterval: rc.stalledMs, maxStalledCount: rc.maxStalledCount });
  await both;
  await w.close();
  return order;
}

describe('a service starting after a crash takes back its predecessor\'s job before the ones queued behind it', () => {
  it('without requeueOrphans, BullMQ hands the new consumer B first and A only once its lock lapses: the order breaks', async () => {
    await orphanA('orphans-control');
    expect(await consumeOrder('orphans-control')).toEqual(['B', 'A']);
  });

  it('with it, A is back at the head of the queue first: the order is kept', async () => {
    await orphanA('orphans-kept');
    expect(await requeueOrphans({ redisUrl: url, prefix }, 'orphans-kept', rc)).toBe(1);
    expect(await consumeOrder('orphans-kept')).toEqual(['A', 'B']);
  });

  it('with no orphan it returns at once', async () => {
    expect(await requeueOrphans({ redisUrl: url, prefix }, 'orphans-none', rc)).toBe(0);
  });
});
