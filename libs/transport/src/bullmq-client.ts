import { randomBytes, randomUUID } from 'node:crypto';
import {
  ClientProxy,
  type ProducerDeserializer,
  type ProducerSerializer,
  type ReadPacket,
  type WritePacket,
} from '@nestjs/microservices';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../redis/src/index.js';
import { NestPinoLogger } from '../../logging/src/index.js';
import { ClientClosedError, RequestTimeoutError, TransportConfigError, TransportError } from './errors.js';
import { toBullJobId } from './job-id.js';
import { describeIssues, replyPacketSchema, type JobPacket } from './job-packet.js';
import { eventRetry, jobRetention, type JobRetention } from './job-retention.js';
import { assertQueueName } from './queue-names.js';
import { fromWireError } from './wire-error.js';

export interface BullMqClientOptions {
  /** Redis URL, e.g. redis://127.0.0.1:6379 */
  url: string;
  /** BullMQ key prefix; must be the server's */
  prefix: string;
  /** the target queue, e.g. `queueName('vfio-type1')` */
  queue: string;
  /** the target service's name, for error messages */
  service: string;
  /** where replies come back, a queue of this client alone (close() removes it); default `${queue}.reply.${random}` */
  replyQueue?: string;
  /** bound on a request; default 10_000; 0 = wait for ever */
  timeoutMs?: number;
  /**
   * bound on connecting (once, before the first request: the queue and the reply worker ready, BullMQ's
   * scripts loaded, which takes hundreds of ms on a loaded machine); default the larger of timeoutMs and
   * 5_000, and for ever when timeoutMs is 0
   */
  connectTimeoutMs?: number;
  /**
   * BullMQ job id of an event (e.g. its event id): a re-sent event is then dropped while the first job
   * still exists. Encoded for BullMQ (see `toBullJobId`): ':' and integer-like ids are allowed here.
   */
  jobIdOf?: (pattern: string, data: unknown) => string | undefined;
  /** how long the jobs this client adds are kept once completed; default an hour, at most 1000 (job-retention.ts) */
  removeOnComplete?: JobRetention['removeOnComplete'];
  /** how long they are kept once failed; default 7 days, at most 10 000 */
  removeOnFail?: JobRetention['removeOnFail'];
  /**
   * Events only: how often a job whose handler threw is tried again (exponential backoff from
   * `retryDelayMs`). Safe where the handler is idempotent, as the component host is. Default 1 (no retry).
   */
  eventAttempts?: number;
  retryDelayMs?: number;
  serializer?: ProducerSerializer;
  deserializer?: ProducerDeserializer;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const REPLY_CONCURRENCY = 64;

type Route = (reply: WritePacket) => void;

/**
 * Nest ClientProxy over BullMQ. Requests and events are jobs on the target queue; replies come back
 * as jobs on this client's reply queue, consumed by one shared Worker that routes each to its
 * request by packet id (`routingMap`), whatever order they arrive in.
 */
export class BullMqClient extends ClientProxy {
  /** the process's log (libs/logging), never Nest's console logger: in the CLI, stdout carries only `--json` */
  protected readonly logger = new NestPinoLogger('BullMqClient');

  private readonly options: BullMqClientOptions;
  private readonly replyQueue: string;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  /** packet id → normalised pattern of the requests in flight, for errors */
  private readonly inFlight = new Map<string, string>();
  private connecting?: Promise<void>;
  private connection?: Redis;
  private queue?: Queue;
  private replyWorker?: Worker;

  constructor(options: BullMqClientOptions) {
    super();
    if (!options.url) throw new TransportConfigError('BullMqClient: url is required');
    if (!options.prefix) throw new TransportConfigError('BullMqClient: prefix is required');
    if (!options.service) throw new TransportConfigError('BullMqClient: service is required');
    assertQueueName(options.queue);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
      throw new TransportConfigError(`BullMqClient: timeoutMs must be a number >= 0, got ${timeoutMs}`);
    }
    this.options = options;
    this.timeoutMs = timeoutMs;
    this.connectTimeoutMs = options.connectTimeoutMs ?? (timeoutMs > 0 ? Math.max(timeoutMs, DEFAULT_CONNECT_TIMEOUT_MS) : 0);
    this.replyQueue = options.replyQueue ?? `${options.queue}.reply.${randomBytes(6).toString('hex')}`;
    assertQueueName(this.replyQueue, 'reply queue');
    this.initializeSerializer({ serializer: options.serializer });
    this.initializeDeserializer({ deserializer: options.deserializer });
  }

  /** Called by Nest before every send/emit: opens the queue and the reply worker once. */
  connect(): Promise<void> {
    if (this.connecting) return this.connecting;
    const connecting: Promise<void> = this.open().catch(async (err: unknown) => {
      if (this.connecting === connecting) {
        this.connecting = undefined;
        await this.shutdown();
      }
      throw err;
    });
    this.connecting = connecting;
    return connecting;
  }

  /**
   * Fails the requests in flight with ClientClosedError, closes the reply worker, removes the reply
   * queue from Redis (it is this client's alone: nothing else will read it), then closes the queue and
   * the connection.
   */
  async close(): Promise<void> {
    for (const [id, route] of [...this.routingMap]) {
      (route as Route)({ err: new ClientClosedError(this.inFlight.get(id) ?? '?', this.options.service), isDisposed: true });
    }
    this.routingMap.clear();
    this.inFlight.clear();
    this.connecting = undefined;
    const { replyWorker, connection } = this;
    if (replyWorker && connection) {
      this.replyWorker = undefined;
      await replyWorker.close().catch((err: unknown) => this.logger.error(`closing reply worker: ${String(err)}`));
      const replies = new Queue(this.replyQueue, { connection, prefix: this.options.prefix });
      replies.on('error', (err: Error) => this.logger.error(`reply queue '${this.replyQueue}': ${err.message}`));
      // force: a reply still locked by the worker that just closed is removed too
      await replies.obliterate({ force: true }).catch((err: unknown) => this.logger.error(`removing reply queue '${this.replyQueue}': ${String(err)}`));
      await replies.close().catch(() => undefined);
    }
    await this.shutdown();
  }

  /** The target queue (after `connect()`). */
  unwrap<T = Queue>(): T {
    if (!this.queue) throw new Error('Not initialized. Please call the "connect" method first.');
    return this.queue as T;
  }

  /** The queue replies come back on. */
  getReplyQueue(): string {
    return this.replyQueue;
  }

  protected publish(partialPacket: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const { service } = this.options;
    const pattern = this.normalizePattern(partialPacket.pattern);
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const teardown = (): void => {
      settled = true;
      if (timer) clearTimeout(timer);
      this.routingMap.delete(id);
      this.inFlight.delete(id);
    };
    const route: Route = ({ err, response, isDisposed }) => {
      if (settled) return;
      const failed = err !== undefined && err !== null;
      const last = failed || isDisposed === true;
      if (last) teardown();
      callback({ err: failed ? fromWireError(err, pattern, service) : undefined, response, isDisposed: last });
    };
    this.routingMap.set(id, route);
    this.inFlight.set(id, pattern);
    const queue = this.queue;
    if (!queue) {
      route({ err: new ClientClosedError(pattern, service), isDisposed: true });
      return teardown;
    }
    let added: Promise<Job | undefined> = Promise.resolve(undefined);
    try {
      const packet: JobPacket = { ...partialPacket, pattern, id, replyTo: this.replyQueue };
      added = queue.add(pattern, this.serializer.serialize(packet), this.jobOptions()).catch((err: unknown) => {
        route({ err: sendFailure(pattern, service, err), isDisposed: true });
        return undefined;
      });
    } catch (err) {
      route({ err: sendFailure(pattern, service, err), isDisposed: true });
    }
    if (this.timeoutMs > 0 && !settled) {
      timer = setTimeout(() => {
        route({ err: new RequestTimeoutError(pattern, service, this.timeoutMs), isDisposed: true });
        // Withdraw the request if no worker has taken it yet (BullMQ refuses to remove a locked, active
        // job), so a server that starts later does not act on a request its caller gave up on.
        void added.then((job) => (job?.id ? queue.remove(job.id) : 0)).catch(() => 0);
      }, this.timeoutMs);
    }
    return teardown;
  }

  /**
   * Adds an event job and resolves once BullMQ has it (what `emit()` does, as a promise). Public, unlike
   * in ClientProxy, so a caller can await delivery without an Observable; connects when needed. The
   * packet goes as is: `emit()` applies the dispatch hook (`setOnDispatchHook`) before calling this.
   */
  async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const pattern = this.normalizePattern(packet.pattern);
    if (!this.queue) await this.connect();
    const queue = this.queue;
    if (!queue) throw new ClientClosedError(pattern, this.options.service);
    const jobId = toBullJobId(this.options.jobIdOf?.(pattern, packet.data));
    const event: JobPacket = { ...packet, pattern };
    const attempts = this.options.eventAttempts ?? 1;
    const retry = eventRetry(attempts, this.options.retryDelayMs ?? 200);
    await queue.add(pattern, this.serializer.serialize(event), { ...this.jobOptions(), ...retry, jobId });
    return undefined as T;
  }

  private async open(): Promise<void> {
    const { url, prefix, queue: queueName, service } = this.options;
    const connection = connectRedis(url, { maxRetriesPerRequest: null });
    connection.on('error', (err: Error) => this.logger.error(`Redis connection (${service}): ${err.message}`));
    this.connection = connection;
    const queue = new Queue(queueName, { connection, prefix });
    queue.on('error', (err: Error) => this.logger.error(`queue '${queueName}': ${err.message}`));
    this.queue = queue;
    const worker = new Worker(this.replyQueue, (job: Job) => this.onReply(job), {
      connection,
      prefix,
      concurrency: REPLY_CONCURRENCY,
    });
    worker.on('error', (err: Error) => this.logger.error(`reply worker '${this.replyQueue}': ${err.message}`));
    this.replyWorker = worker;
    const ready = Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    if (this.connectTimeoutMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new TransportError(`could not reach Redis for service '${service}' within ${this.connectTimeoutMs} ms`)),
          this.connectTimeoutMs,
        );
      });
      try {
        await Promise.race([ready, bound]);
      } finally {
        clearTimeout(timer);
      }
    } else {
      await ready;
    }
    this._status$.next('connected');
  }

  private async onReply(job: Job): Promise<void> {
    let decoded: unknown;
    try {
      decoded = await this.deserializer.deserialize(job.data);
    } catch (err) {
      this.logger.error(`reply job '${job.id}' on '${this.replyQueue}': deserializer failed: ${String(err)}`);
      return;
    }
    const parsed = replyPacketSchema.safeParse(decoded);
    if (!parsed.success) {
      this.logger.error(`malformed reply job '${job.id}' on '${this.replyQueue}': ${describeIssues(parsed.error)}`);
      return;
    }
    const { id, err, response, isDisposed } = parsed.data;
    const route = this.routingMap.get(id) as Route | undefined;
    if (!route) {
      // timed out, torn down or closed already: the caller has had its answer
      this.logger.debug(`reply for unknown or finished request ${id} on '${this.replyQueue}'`);
      return;
    }
    route({ err, response, isDisposed });
  }

  private jobOptions(): JobRetention {
    return jobRetention({ removeOnComplete: this.options.removeOnComplete, removeOnFail: this.options.removeOnFail });
  }

  private async shutdown(): Promise<void> {
    const { replyWorker, queue, connection } = this;
    this.replyWorker = this.queue = this.connection = undefined;
    await replyWorker?.close().catch((err: unknown) => this.logger.error(`closing reply worker: ${String(err)}`));
    await queue?.close().catch((err: unknown) => this.logger.error(`closing queue: ${String(err)}`));
    if (connection) await connection.quit().catch(() => connection.disconnect());
    this._status$.next('disconnected');
  }
}

function sendFailure(pattern: string, service: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new TransportError(`request '${pattern}' to service '${service}' could not be queued: ${message}`, { cause: err });
}
