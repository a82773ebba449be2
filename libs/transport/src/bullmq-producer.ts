import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../redis/src/index.js';
import { TransportConfigError } from './errors.js';
import { toBullJobId } from './job-id.js';
import type { JobPacket } from './job-packet.js';
import { eventRetry, jobRetention, type JobRetention } from './job-retention.js';
import { assertQueueName } from './queue-names.js';

/** One event job for BullMqProducer.addAll. */
export interface ProducerJob {
  queue: string;
  pattern: string;
  data: unknown;
  /** the caller's id (escaped for BullMQ): a job added again under it is dropped while the first is kept */
  jobId?: string;
}

/** How long the first add waits for a new connection to be ready, by default. */
const READY_TIMEOUT_MS = 10_000;

export interface BullMqProducerOptions {
  url: string;
  prefix: string;
  /** a job whose handler throws is tried this often in all (BullMQ attempts), backing off from retryDelayMs */
  attempts?: number;
  retryDelayMs?: number;
  retention?: Partial<JobRetention>;
  /** how long an add waits for the connection to be ready the first time (default 10 s) */
  readyTimeoutMs?: number;
}

/**
 * Events into many queues over one connection: what a service's outbox needs (a command goes to the
 * partition of its run in another service's data queue, and nothing answers it). BullMqClient is the
 * request/reply side, with a reply queue and its Worker per target queue; a service sending to twenty
 * partitions needs neither. The job is the packet BullMqServer reads (`{ pattern, data }`), its id the
 * caller's (escaped for BullMQ), so a re-sent event is dropped while its first job is kept.
 *
 * The connection does not queue commands while Redis is away (`enableOfflineQueue: false`): an add
 * fails at once, the delivery that sent it fails, and BullMQ hands that delivery out again, whose host
 * re-sends the recorded commands from the log. Waiting silently instead would hold the delivery's job
 * past its lock.
 */
export class BullMqProducer {
  private connection?: Redis;
  /** by queue name, the Queue once started (a promise: two adds racing to a new queue share it) */
  private readonly queues = new Map<string, Promise<Queue>>();
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly retention: JobRetention;
  private closed = false;
  private wasReady = false;

  constructor(private readonly o: BullMqProducerOptions) {
    if (!o.url) throw new TransportConfigError('BullMqProducer: url is required');
    if (!o.prefix) throw new TransportConfigError('BullMqProducer: prefix is required');
    this.attempts = o.attempts ?? 1;
    this.retryDelayMs = o.retryDelayMs ?? 200;
    this.retention = jobRetention(o.retention);
  }

  /**
   * The connection, once it has first been ready: without an offline queue a command sent before that
   * fails, and BullMQ's own wait is for `connect`, which an ioredis Cluster reaches before it knows its
   * slots. Later, a connection that is down fails the add at once (the point of no offline queue).
   */
  private async ready(): Promise<Redis> {
    let c = this.connection;
    if (!c) {
      c = this.connection = connectRedis(this.o.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
      // a connection error reaches the add that meets it; the emitter's copy would be printed as unhandled
      c.on('error', () => {});
    }
    if (this.wasReady || c.status === 'ready') {
      this.wasReady = true;
      return c;
    }
    await new Promise<void>((resolve, reject) => {
      const ms = this.o.readyTimeoutMs ?? READY_TIMEOUT_MS;
      const timer = setTimeout(() => done(new Error(`Redis not ready within ${ms} ms`)), ms);
      const onReady = () => done();
      const onEnd = () => done(new Error('the connection to Redis ended'));
      const done = (err?: Error) => {
        clearTimeout(timer);
        c.off('ready', onReady);
        c.off('end', onEnd);
        if (err) reject(err);
        else resolve();
      };
      c.on('ready', onReady);
      c.on('end', onEnd);
    });
    this.wasReady = true;
    return c;
  }

  private queue(name: string): Promise<Queue> {
    let started = this.queues.get(name);
    if (!started) {
      assertQueueName(name);
      started = (async () => {
        const q = new Queue(name, { connection: await this.ready(), prefix: this.o.prefix });
        // errors reach the caller of add(); the emitter's copy would otherwise be unhandled
        q.on('error', () => {});
        try {
          await q.waitUntilReady();
          return q;
        } catch (e) {
          void q.close().catch(() => {});
          throw e;
        }
      })();
      // a Queue whose start failed stays failed: the next add makes a new one
      started.catch(() => this.queues.get(name) === started && this.queues.delete(name));
      this.queues.set(name, started);
    }
    return started;
  }

  /** Adds one event job; resolves once Redis has it. */
  async add(queue: string, pattern: string, data: unknown, jobId?: string): Promise<void> {
    await this.addAll([{ queue, pattern, data, jobId }]);
  }

  /**
   * Adds event jobs, in order within each queue; resolves once Redis has them all. One round trip for
   * each queue named, and the queues' at once: a queue's jobs go in one addBulk (a MULTI, so they land
   * in the order given), and no order holds across queues (none is needed: a receiver's channel is one
   * queue).
   */
  async addAll(jobs: readonly ProducerJob[]): Promise<void> {
    if (this.closed) throw new TransportConfigError(`BullMqProducer: closed (event '${jobs[0]?.pattern}' to '${jobs[0]?.queue}')`);
    const byQueue = new Map<string, ProducerJob[]>();
    for (const j of jobs) {
      const list = byQueue.get(j.queue);
      if (list) list.push(j);
      else byQueue.set(j.queue, [j]);
    }
    const retry = eventRetry(this.attempts, this.retryDelayMs);
    const bull = (j: ProducerJob) => ({ name: j.pattern, data: { pattern: j.pattern, data: j.data } satisfies JobPacket, opts: { ...this.retention, ...retry, jobId: toBullJobId(j.jobId) } });
    await Promise.all([...byQueue].map(async ([name, list]) => {
      const q = await this.queue(name);
      if (list.length === 1) {
        const { name: pattern, data, opts } = bull(list[0]!);
        await q.add(pattern, data, opts);
      } else {
        await q.addBulk(list.map(bull));
      }
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.queues.values()].map(async (q) => (await q).close()));
    this.queues.clear();
    const c = this.connection;
    this.connection = undefined;
    if (c) await c.quit().catch(() => c.disconnect());
  }
}
