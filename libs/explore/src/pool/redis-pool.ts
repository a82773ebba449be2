import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { boundedRedisOptions, describeRedisError, probeRedis, RedisUnavailableError } from '../../../redis/src/index.js';
import type { RunPool } from '../pool.js';
import type { ExploreRunResult, ExploreRunSpec } from '../run-spec.js';
import { ExploreWorkerError } from './child-workers.js';
import { EXPLORE_PREFIX, EXPLORE_QUEUE, exploreJobId } from './redis-queue.js';

export interface RedisPoolOptions {
  /** BullMQ key prefix: the explore-workers' (`--prefix`) */
  prefix?: string;
  /** names this exploration's jobs; default a fresh id, so a resumed session never reads an old session's results */
  exploration?: string;
  /** a batch in which no run finishes for this long fails */
  idleMs?: number;
  /** sooner when no explore-worker is on the queue for this long */
  noWorkerMs?: number;
  /** with no news for this long, the batch's jobs are read from Redis (an event lost in a reconnect costs one read) */
  pollMs?: number;
}

interface Batch {
  specs: ExploreRunSpec[];
  at: Map<string, number>;
  results: Array<ExploreRunResult | undefined>;
  left: number;
  lastNews: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Runs as BullMQ jobs on a shared Redis, taken by `vsva-sim explore-worker` processes on any machine.
 * Results come back as each job's return value: QueueEvents' completed event carries it at once,
 * and the job itself keeps it until this pool has read it, so a result is never lost to a dropped
 * event (the pool reads the jobs when it has had no news for a while). Every wait has a deadline:
 * a batch fails when no worker is on the queue, or when none of its runs finishes for `idleMs`.
 */
export async function redisPool(url: string, o: RedisPoolOptions = {}): Promise<RunPool> {
  await probeRedis(url, 5000);
  const prefix = o.prefix ?? EXPLORE_PREFIX;
  const exploration = o.exploration ?? `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const idleMs = o.idleMs ?? 300_000;
  const noWorkerMs = o.noWorkerMs ?? 30_000;
  const pollMs = o.pollMs ?? 2000;
  const queueConn = new Redis(url, boundedRedisOptions());
  queueConn.on('error', () => {});
  // QueueEvents blocks on the stream: BullMQ needs no retry limit on its connection
  const eventsConn = new Redis(url, { maxRetriesPerRequest: null });
  eventsConn.on('error', () => {});
  const queue = new Queue(EXPLORE_QUEUE, { connection: queueConn, prefix });
  const events = new QueueEvents(EXPLORE_QUEUE, { connection: eventsConn, prefix });
  queue.on('error', () => {});
  events.on('error', () => {});
  const redisError = (e: unknown) => (e instanceof RedisUnavailableError ? e : new RedisUnavailableError(url, describeRedisError(url, e)));
  // listening before any job is added: no completion can come before its listener
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]).catch((e: unknown) => {
    throw redisError(e);
  });
  let workers = await queue.getWorkersCount();
  let batch: Batch | undefined;

  const settle = (b: Batch, id: string, r: ExploreRunResult) => {
    const i = b.at.get(id);
    if (i === undefined || b.results[i] !== undefined) return;
    b.results[i] = r;
    b.lastNews = Date.now();
    if (--b.left === 0) b.resolve();
  };
  const fail = (b: Batch, id: string, why: string) => {
    const i = b.at.get(id);
    if (i !== undefined) b.reject(new ExploreWorkerError(`run #${b.specs[i]!.index} (job ${id}) failed on an explore-worker: ${why}`));
  };
  events.on('completed', ({ jobId, returnvalue }) => batch && settle(batch, jobId, returnvalue as unknown as ExploreRunResult));
  events.on('failed', ({ jobId, failedReason }) => batch && fail(batch, jobId, failedReason));

  /** The jobs still outstanding, read from Redis. */
  async function poll(b: Batch): Promise<void> {
    for (const [id, i] of b.at) {
      if (b.results[i] !== undefined) continue;
      const job = await queue.getJob(id);
      if (job?.finishedOn && job.failedReason) fail(b, id, job.failedReason);
      else if (job?.finishedOn) settle(b, id, job.returnvalue as ExploreRunResult);
    }
  }

  async function watch(b: Batch): Promise<void> {
    const quiet = Date.now() - b.lastNews;
    if (quiet < pollMs) return;
    await poll(b);
    if (!b.left) return;
    if (quiet >= idleMs) {
      b.reject(new ExploreWorkerError(`no explore run finished for ${idleMs} ms (${b.left} of ${b.specs.length} outstanding, ${await queue.getWorkersCount()} explore-workers on queue ${prefix}:${EXPLORE_QUEUE})`));
    } else if (quiet >= noWorkerMs && (await queue.getWorkersCount()) === 0) {
      b.reject(new ExploreWorkerError(`no explore-worker on queue ${prefix}:${EXPLORE_QUEUE} for ${noWorkerMs} ms: start one or more with \`vsva-sim explore-worker --redis <this Redis URL>${prefix === EXPLORE_PREFIX ? '' : ` --prefix ${prefix}`}\``));
    }
  }

  async function forget(ids: string[]): Promise<void> {
    // a job still running keeps its lock and cannot be removed: it expires with removeOnComplete's age
    await Promise.all(ids.map((id) => queue.remove(id).catch(() => 0)));
  }

  return {
    name: 'redis',
    get workers() {
      return workers;
    },
    async run(specs) {
      if (batch) throw new Error('redisPool: one batch at a time');
      if (!specs.length) return [];
      const ids = specs.map((s) => exploreJobId(exploration, s.index));
      let b!: Batch;
      const done = new Promise<void>((resolve, reject) => {
        b = { specs, at: new Map(ids.map((id, i) => [id, i])), results: new Array(specs.length), left: specs.length, lastNews: Date.now(), resolve, reject };
      });
      // a job can fail while the batch is still being added: awaited below, never an unhandled rejection
      done.catch(() => {});
      batch = b;
      let watching = false;
      const timer = setInterval(() => {
        if (watching) return;
        watching = true;
        watch(b).catch((e: unknown) => b.reject(redisError(e))).finally(() => (watching = false));
      }, Math.min(pollMs, 1000));
      try {
        workers = await queue.getWorkersCount();
        // kept an hour at most: the pool removes each once read, the age bounds what a dead coordinator leaves
        await queue.addBulk(specs.map((data, i) => ({ name: 'run', data, opts: { jobId: ids[i], removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } } })))
          .catch((e: unknown) => {
            throw redisError(e);
          });
        await done;
        return b.results as ExploreRunResult[];
      } finally {
        clearInterval(timer);
        batch = undefined;
        await forget(ids);
      }
    },
    async close() {
      await events.close().catch(() => {});
      await queue.close().catch(() => {});
      queueConn.disconnect();
      eventsConn.disconnect();
    },
  };
}
