import { Queue, Worker } from 'bullmq';
import { connectRedis } from '../../redis/src/index.js';
import type { ClusterConfig } from './config.js';
import { workerOptionsOf, type RecoveryConfig } from './recovery-config.js';

/**
 * Puts back on the queue the jobs a killed predecessor left active, before this service takes new ones.
 *
 * A data queue has one consumer, so at start any active job belongs to a dead process. BullMQ would
 * redeliver it anyway once its lock lapses, but a new worker would meanwhile take the jobs queued
 * behind it, and the component would consume its inputs in another order than they were sent. The
 * stalled check puts a recovered job at the head of the queue, so waiting for it first keeps FIFO.
 *
 * Bounded: if the jobs are still held after a lock period and a few checks (their holder is alive
 * after all), it returns and BullMQ's own stalled handling takes over. Returns how many came back.
 */
export async function requeueOrphans(cfg: ClusterConfig, queue: string, rc: RecoveryConfig): Promise<number> {
  const connection = connectRedis(cfg.redisUrl, { maxRetriesPerRequest: null });
  const q = new Queue(queue, { connection, prefix: cfg.prefix });
  let worker: Worker | undefined;
  try {
    const orphans = await q.getActiveCount();
    if (orphans === 0) return 0;
    // a worker that never takes a job, only runs the stalled check (BullMQ's manual-fetching pattern)
    worker = new Worker(queue, async () => {}, { ...workerOptionsOf(rc), connection, prefix: cfg.prefix, autorun: false });
    worker.on('error', () => {});
    await worker.startStalledCheckTimer();
    const deadline = Date.now() + rc.lockMs + 3 * rc.stalledMs + 1000;
    let left = orphans;
    while (left > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(100, rc.stalledMs)));
      left = await q.getActiveCount();
    }
    return orphans - left;
  } finally {
    await worker?.close().catch(() => {});
    await q.close().catch(() => {});
    await connection.quit().catch(() => connection.disconnect());
  }
}
