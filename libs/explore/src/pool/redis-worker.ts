import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '../../../logging/src/index.js';
import { probeRedis, redactUrl } from '../../../redis/src/index.js';
import type { ExploreRunResult } from '../run-spec.js';
import { ChildWorkers, type ChildWorkersOptions } from './child-workers.js';
import { EXPLORE_PREFIX, EXPLORE_QUEUE } from './redis-queue.js';

export interface ExploreWorkerOptions extends ChildWorkersOptions {
  /** BullMQ key prefix: the coordinators' (redisPool's) */
  prefix?: string;
  /** simulations at once: one child process each */
  concurrency?: number;
  log?: Logger;
}

export interface ExploreWorker {
  readonly concurrency: number;
  /** finishes the runs in progress (bounded by the runs' deadline), then stops the children */
  close(): Promise<void>;
}

/**
 * `vsva-sim explore-worker`: takes explore runs from the shared queue and runs each in one of
 * `concurrency` child processes, so that this process only moves jobs and its lock renewals never
 * wait behind a simulation. A bad payload is an error result (executeRun checks its input); a child
 * that dies fails that one job with its cause and is replaced. Throws RedisUnavailableError (with the
 * cause) when Redis does not answer.
 */
export async function startExploreWorker(url: string, o: ExploreWorkerOptions = {}): Promise<ExploreWorker> {
  await probeRedis(url, 5000);
  const concurrency = o.concurrency ?? 1;
  const prefix = o.prefix ?? EXPLORE_PREFIX;
  const children = new ChildWorkers(concurrency, o);
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const worker = new Worker(
    EXPLORE_QUEUE,
    async (job: Job): Promise<ExploreRunResult> => {
      const r = await children.runOne(job.data);
      o.log?.debug({ job: job.id, index: r.index, violations: r.violations.length, error: r.error }, 'run done');
      return r;
    },
    { connection, prefix, concurrency },
  );
  worker.on('failed', (job, err) => o.log?.warn({ job: job?.id }, `run failed: ${err.message}`));
  worker.on('error', (err) => o.log?.error(`queue: ${err.message}`));
  await worker.waitUntilReady();
  o.log?.info(`taking explore runs from Redis at ${redactUrl(url)} (queue ${prefix}:${EXPLORE_QUEUE}), ${concurrency} at a time in child processes ${children.pids().join(', ')}`);
  return {
    concurrency,
    async close() {
      await worker.close();
      await children.close();
      connection.disconnect();
    },
  };
}
