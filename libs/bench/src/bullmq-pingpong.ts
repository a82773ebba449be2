import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { DEFAULT_RECOVERY, workerOptionsOf } from '../../cluster/src/index.js';
import { CHANNEL_CONCURRENCY } from '../../transport/src/index.js';
import type { BenchContext } from './context.js';
import { sequentialTimes, type LatencySide } from './latency-timing.js';
import { forkPeer } from './peer-process.js';

/** Concurrency of the requester's reply Worker: the transport client's (BullMqClient REPLY_CONCURRENCY). */
export const REPLY_CONCURRENCY = 64;

/**
 * The peer of the hop latency: raw BullMQ ping-pong between two processes, no Nest. This process
 * adds a ping job (`{ pattern, data, id, replyTo }`, the transport's request packet and job options)
 * to a queue that a Worker in a forked process (concurrency 16 and the services' Worker settings)
 * consumes by adding a reply job to this process's reply queue, where a Worker (concurrency 64, as
 * the client's reply worker) hands it to the waiting request by id.
 */
export async function openPingPong(ctx: BenchContext): Promise<LatencySide> {
  const pingQ = 'peer-ping';
  const pongQ = 'peer-pong';
  const pong = await forkPeer({
    mode: 'pong', url: ctx.redis.url, prefix: ctx.redis.prefix, queue: pingQ, replyQueue: pongQ,
    concurrency: CHANNEL_CONCURRENCY.ctl, workerOptions: workerOptionsOf(DEFAULT_RECOVERY),
  });
  const connection = new Redis(ctx.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(pingQ, { connection, prefix: ctx.redis.prefix });
  const waiting = new Map<string, () => void>();
  const worker = new Worker(pongQ, async (job: Job) => {
    waiting.get((job.data as { id: string }).id)?.();
  }, { connection, prefix: ctx.redis.prefix, concurrency: REPLY_CONCURRENCY });
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
  const once = async () => {
    const id = randomUUID();
    const replied = new Promise<void>((r) => waiting.set(id, r));
    await queue.add('health', { pattern: 'health', data: {}, id, replyTo: pongQ }, { removeOnComplete: 10_000, removeOnFail: 10_000 });
    await replied;
    waiting.delete(id);
  };
  return {
    sample: (n) => sequentialTimes(n, once),
    async close() {
      await pong.stop();
      await worker.close();
      const pongQueue = new Queue(pongQ, { connection, prefix: ctx.redis.prefix });
      for (const q of [queue, pongQueue]) {
        await q.obliterate({ force: true }).catch(() => {});
        await q.close();
      }
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
