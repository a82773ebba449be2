import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../redis/src/index.js';
import { TransportConfigError } from './errors.js';
import { toBullJobId } from './job-id.js';
import type { JobPacket } from './job-packet.js';
import { jobRetention, type JobRetention } from './job-retention.js';
import { assertQueueName } from './queue-names.js';

export interface BullMqProducerOptions {
  url: string;
  prefix: string;
  /** a job whose handler throws is tried this often in all (BullMQ attempts), backing off from retryDelayMs */
  attempts?: number;
  retryDelayMs?: number;
  retention?: Partial<JobRetention>;
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
  private readonly queues = new Map<string, Queue>();
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly retention: JobRetention;
  private closed = false;

  constructor(private readonly o: BullMqProducerOptions) {
    if (!o.url) throw new TransportConfigError('BullMqProducer: url is required');
    if (!o.prefix) throw new TransportConfigError('BullMqProducer: prefix is required');
    this.attempts = o.attempts ?? 1;
    this.retryDelayMs = o.retryDelayMs ?? 200;
    this.retention = jobRetention(o.retention);
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      assertQueueName(name);
      this.connection ??= connectRedis(this.o.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
      q = new Queue(name, { connection: this.connection, prefix: this.o.prefix });
      // errors reach the caller of add(); the emitter's copy would otherwise be unhandled
      q.on('error', () => {});
      this.queues.set(name, q);
    }
    return q;
  }

  /** Adds one event job; resolves once Redis has it. */
  async add(queue: string, pattern: string, data: unknown, jobId?: string): Promise<void> {
    if (this.closed) throw new TransportConfigError(`BullMqProducer: closed (event '${pattern}' to '${queue}')`);
    const q = this.queue(queue);
    // the first add on a new connection waits for it to be ready (an offline queue would hold the rest)
    await q.waitUntilReady();
    const packet: JobPacket = { pattern, data };
    const retry = this.attempts > 1 ? { attempts: this.attempts, backoff: { type: 'exponential' as const, delay: this.retryDelayMs } } : {};
    await q.add(pattern, packet, { ...this.retention, ...retry, jobId: toBullJobId(jobId) });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    const c = this.connection;
    this.connection = undefined;
    if (c) await c.quit().catch(() => c.disconnect());
  }
}
