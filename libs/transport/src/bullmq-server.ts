import {
  Server,
  type BaseRpcContext,
  type ConsumerDeserializer,
  type ConsumerSerializer,
  type MessageHandler,
  type CustomTransportStrategy,
  type ReadPacket,
  type WritePacket,
} from '@nestjs/microservices';
import { DelayedError, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../redis/src/index.js';
import { NestPinoLogger } from '../../logging/src/index.js';
import { finalize, isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import { BullMqContext } from './bullmq-context.js';
import { TransportConfigError } from './errors.js';
import { isRequest, parseJobPacket, type RequestJobPacket } from './job-packet.js';
import { jobRetention, type JobRetention } from './job-retention.js';
import { assertQueueName } from './queue-names.js';
import { ReplyQueues } from './reply-queues.js';
import { toWireError } from './wire-error.js';

/** `transportId` of this transport (handlers may be restricted to it with `@MessagePattern(p, BULLMQ_TRANSPORT)`). */
export const BULLMQ_TRANSPORT = Symbol('BULLMQ');

/** Job name of reply jobs (the name is informational; routing is by packet id). */
export const REPLY_JOB_NAME = 'reply';

export interface BullMqServerQueue {
  name: string;
  /** default 1: one job at a time, FIFO (the consumer order is what the log records) */
  concurrency?: number;
}

/**
 * BullMQ Worker settings passed through to every Worker (the transport sets connection, prefix and
 * concurrency itself). Crash recovery lives here: a job whose worker died is redelivered once its lock
 * (`lockDuration`) lapses and a stalled check (`stalledInterval`) sees it; BullMQ's defaults (30 s each,
 * and failing a job stalled more than once) are meant for long jobs, not for a simulator's short ones.
 */
export type BullMqWorkerOptions = Omit<WorkerOptions, 'connection' | 'prefix' | 'concurrency' | 'autorun'>;

/** Where a malformed job came from, for a dead-letter record. */
export interface MalformedJobInfo {
  queue: string;
  jobId?: string;
}

export interface BullMqServerOptions {
  /** Redis URL, e.g. redis://127.0.0.1:6379 */
  url: string;
  /** BullMQ key prefix: isolates runs and tests sharing one Redis */
  prefix: string;
  /** one BullMQ Worker each */
  queues: BullMqServerQueue[];
  /**
   * A job that fails the packet schema (or an event nobody handles). The job completes after this
   * resolves; if it throws, the job fails (and stays in BullMQ's failed set). Absent: logged at error level.
   */
  onMalformed?: (reason: string, raw: unknown, info: MalformedJobInfo) => Promise<void> | void;
  /** false: no informational logs (errors are always logged) */
  logger?: boolean;
  /** lock, stalled-check and other Worker settings; BullMQ's defaults when absent */
  workerOptions?: BullMqWorkerOptions;
  /** how long finished reply jobs are kept; default DEFAULT_JOB_RETENTION (completed 1 h / 1000, failed 7 days / 10 000) */
  replyRetention?: Partial<JobRetention>;
  serializer?: ConsumerSerializer;
  deserializer?: ConsumerDeserializer;
}

type Listener = (...args: unknown[]) => void;

/**
 * Nest custom transport strategy over BullMQ: one Worker per queue. Each job's processor resolves
 * only when its handler (and, for a request, the publishing of its last reply) is done, so a crash
 * mid-handler leaves the job to BullMQ's stalled-job recovery: at-least-once.
 */
export class BullMqServer extends Server implements CustomTransportStrategy {
  override transportId = BULLMQ_TRANSPORT;
  /** Event handler failures reach `handleEvent` (awaited below), fail the job and are logged once there. */
  override readonly propagatesEventHandlerErrors = true;
  /** the process's log (libs/logging): stderr, credentials redacted, text or JSON lines */
  protected override readonly logger = new NestPinoLogger('BullMqServer');

  private readonly options: BullMqServerOptions;
  private connection?: Redis;
  private replies?: ReplyQueues;
  private readonly workers = new Map<string, Worker>();
  private readonly pendingListeners: Array<{ event: string; callback: Listener }> = [];
  private closing?: Promise<void>;

  constructor(options: BullMqServerOptions) {
    super();
    if (!options.url) throw new TransportConfigError('BullMqServer: url is required');
    if (!options.prefix) throw new TransportConfigError('BullMqServer: prefix is required');
    if (!options.queues?.length) throw new TransportConfigError('BullMqServer: at least one queue is required');
    for (const q of options.queues) {
      assertQueueName(q.name);
      if (q.concurrency !== undefined && !(Number.isInteger(q.concurrency) && q.concurrency >= 1)) {
        throw new TransportConfigError(`BullMqServer: concurrency of '${q.name}' must be an integer >= 1`);
      }
    }
    this.options = options;
    this.initializeSerializer({ serializer: options.serializer });
    this.initializeDeserializer({ deserializer: options.deserializer });
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      const { url, prefix } = this.options;
      const connection = connectRedis(url, { maxRetriesPerRequest: null });
      connection.on('error', (err: Error) => this.logger.error(`Redis connection: ${err.message}`));
      this.connection = connection;
      this.replies = new ReplyQueues(connection, prefix, (err) => this.logger.error(`reply queue: ${err.message}`), jobRetention(this.options.replyRetention));
      for (const q of this.options.queues) this.startWorker(q);
      await Promise.all([...this.workers.values()].map((w) => w.waitUntilReady()));
      this._status$.next('connected');
      if (this.options.logger !== false) {
        this.logger.log(`listening on ${this.options.queues.map((q) => `'${q.name}'`).join(', ')} (prefix '${prefix}')`);
      }
      callback();
    } catch (err) {
      callback(err);
    }
  }

  /**
   * Stops taking jobs, waits for the jobs in flight (their handlers and replies), then closes the
   * reply queues and the connection. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.workers.values()].map((w) => w.close()));
      await this.replies?.close();
      if (this.connection) await this.connection.quit().catch(() => this.connection?.disconnect());
      this._status$.next('disconnected');
    })();
    return this.closing;
  }

  /** The BullMQ Workers, one per queue: those of `options.queues` in their order, then those added since. */
  unwrap<T = Worker[]>(): T {
    if (this.workers.size === 0) {
      throw new Error('Not initialized. Please call the "listen"/"startAllMicroservices" method before accessing the server.');
    }
    return [...this.workers.values()] as T;
  }

  /** A listener on every Worker (e.g. 'error', 'failed'); kept for the Workers `listen` creates later. */
  on<EventKey extends string = string, EventCallback extends Function = Function>(event: EventKey, callback: EventCallback): void {
    const cb = callback as unknown as Listener;
    this.pendingListeners.push({ event, callback: cb });
    for (const w of this.workers.values()) (w as unknown as NodeJS.EventEmitter).on(event, cb);
  }

  /** The queues consumed now. */
  queues(): string[] {
    return [...this.workers.keys()];
  }

  /**
   * Starts consuming one more queue (a partition this process now owns); resolves once its Worker is
   * connected. A queue already consumed is left as it is.
   */
  async addQueue(q: BullMqServerQueue): Promise<void> {
    if (!this.connection || this.closing) throw new Error('BullMqServer: addQueue before listen or after close');
    assertQueueName(q.name);
    if (this.workers.has(q.name)) return;
    await this.startWorker(q).waitUntilReady();
  }

  /**
   * Stops consuming a queue. `force` false waits for its jobs in flight to finish (a partition handed
   * over); true abandons them to BullMQ's stalled-job recovery (a partition whose lease was lost: its
   * new owner may already be consuming).
   */
  async removeQueue(name: string, force = false): Promise<void> {
    const w = this.workers.get(name);
    if (!w) return;
    this.workers.delete(name);
    await w.close(force).catch((err: Error) => this.logger.error(`worker '${name}' close: ${err.message}`));
  }

  private startWorker({ name, concurrency = 1 }: BullMqServerQueue): Worker {
    const { prefix } = this.options;
    const worker = new Worker(name, (job: Job, token?: string) => this.process(name, job, token), { ...this.options.workerOptions, connection: this.connection!, prefix, concurrency });
    worker.on('error', (err: Error) => this.logger.error(`worker '${name}': ${err.message}`));
    worker.on('failed', (job: Job | undefined, err: Error) =>
      this.logger.error(`queue '${name}' job '${job?.id ?? '?'}' (${job?.name ?? '?'}) failed: ${err.message}`),
    );
    for (const { event, callback: cb } of this.pendingListeners) (worker as unknown as NodeJS.EventEmitter).on(event, cb);
    this.workers.set(name, worker);
    return worker;
  }

  /** handlers by the pattern string a job carries: resolved once (Nest's lookup JSON-parses it, and throws, each time) */
  private readonly handlerOf = new Map<string, MessageHandler>();

  /**
   * Nest's lookup, remembered per pattern. Only patterns that have a handler are kept: a job's pattern
   * is the client's to choose, and an unknown one must not grow the map.
   */
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    const known = this.handlerOf.get(pattern);
    if (known) return known;
    const handler = super.getHandlerByPattern(pattern);
    if (handler) this.handlerOf.set(pattern, handler);
    return handler;
  }

  /**
   * Like the base class, but the event's handler is awaited to the end, also when it returns an
   * Observable (an interceptor, or several handlers for one pattern): the base connects the stream
   * and returns at once, which would complete the job before the handler is done. A failing handler
   * rejects (the job fails).
   */
  override async handleEvent(pattern: string, packet: ReadPacket, context: BaseRpcContext): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`no event handler for pattern '${pattern}'`);
    await new Promise<void>((resolve, reject) => {
      const started: unknown = this.runWithProcessingHooks(context, async (runEndHook) => {
        try {
          const result: unknown = await handler(packet.data, context);
          if (isObservable(result)) {
            await lastValueFrom(result.pipe(finalize(runEndHook)), { defaultValue: undefined });
          } else {
            runEndHook();
          }
          resolve();
        } catch (err) {
          reject(err);
          throw err;
        }
      });
      // the default start hook returns the (rejecting) promise; it is already reported through reject
      void Promise.resolve(started).catch(() => {});
    });
  }

  private async process(queue: string, job: Job, token?: string): Promise<void> {
    const raw: unknown = job.data;
    const info: MalformedJobInfo = { queue, jobId: job.id };
    let decoded: unknown;
    try {
      decoded = await this.deserializer.deserialize(raw, { queue, jobId: job.id });
    } catch (err) {
      return this.malformed(`deserializer failed: ${messageOf(err)}`, raw, info);
    }
    const parsed = parseJobPacket(decoded);
    if (!parsed.ok) return this.malformed(`invalid job packet: ${parsed.reason}`, raw, info);
    const { packet } = parsed;
    const context = new BullMqContext([job, queue, packet.metadata]);
    if (isRequest(packet)) return this.processRequest(packet, context);
    if (!this.getHandlerByPattern(packet.pattern)) {
      return this.malformed(`no event handler for pattern '${packet.pattern}'`, raw, info);
    }
    try {
      await this.handleEvent(packet.pattern, packet, context);
    } catch (err) {
      // a handler that asks for the job later (retryAfterMs): to the delayed set, no attempt spent
      const later = retryAfterMs(err);
      if (later !== undefined && token) {
        await job.moveToDelayed(Date.now() + later, token);
        throw new DelayedError();
      }
      throw new Error(`event '${packet.pattern}' handler failed: ${messageOf(err)}`, { cause: err });
    }
  }

  /** Resolves once the last reply (`isDisposed`) is published; rejects if publishing a reply failed. */
  private processRequest(packet: RequestJobPacket, context: BullMqContext): Promise<void> {
    const { id, replyTo, pattern, data } = packet;
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      const message = `no handler for pattern '${pattern}' on queue '${context.getQueue()}'`;
      return this.reply(replyTo, id, { err: { status: 'error', message }, isDisposed: true });
    }
    return new Promise<void>((resolve, reject) => {
      let failure: unknown;
      const respond = async (out: WritePacket): Promise<void> => {
        try {
          await this.reply(replyTo, id, out);
        } catch (err) {
          failure ??= err;
          this.logger.error(`reply to '${replyTo}' for '${pattern}' (${id}) not published: ${messageOf(err)}`);
        }
        if (out.isDisposed) {
          if (failure === undefined) resolve();
          else reject(failure);
        }
      };
      // A rejection of `produce` would skip `send` and leave the caller without a reply: turn it into one.
      const produce = async (): Promise<Observable<unknown>> => {
        try {
          return this.transformToObservable(await handler(data, context));
        } catch (err) {
          return throwError(() => err);
        }
      };
      try {
        const started: unknown = this.handleRequest(context, produce, respond);
        void Promise.resolve(started).catch((err: unknown) => {
          this.logger.error(`request '${pattern}' (${id}): ${messageOf(err)}`);
          void respond({ err, isDisposed: true });
        });
      } catch (err) {
        void respond({ err, isDisposed: true });
      }
    });
  }

  private async reply(replyTo: string, id: string, out: WritePacket): Promise<void> {
    if (!this.replies) throw new Error('server is not listening');
    const packet: WritePacket & { id: string } = { id };
    if (out.response !== undefined) packet.response = out.response;
    if (out.err !== undefined && out.err !== null) packet.err = toWireError(out.err);
    if (out.isDisposed) packet.isDisposed = true;
    if (out.status !== undefined) packet.status = out.status;
    await this.replies.add(replyTo, REPLY_JOB_NAME, this.serializer.serialize(packet));
  }

  private async malformed(reason: string, raw: unknown, info: MalformedJobInfo): Promise<void> {
    const where = `queue '${info.queue}' job '${info.jobId ?? '?'}'`;
    if (!this.options.onMalformed) {
      this.logger.error(`malformed job on ${where}: ${reason}; data: ${preview(raw)}`);
      return;
    }
    try {
      await this.options.onMalformed(reason, raw, info);
    } catch (err) {
      // the job fails and stays in BullMQ's failed set: not lost
      throw new Error(`onMalformed failed for ${where} (${reason}): ${messageOf(err)}`, { cause: err });
    }
  }
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}

function preview(raw: unknown): string {
  try {
    const text = JSON.stringify(raw) ?? String(raw);
    return text.length > 500 ? `${text.slice(0, 500)}…` : text;
  } catch {
    return String(raw);
  }
}

/** `retryAfterMs` of an error or of one of its causes: the handler wants the job again later. */
function retryAfterMs(err: unknown): number | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const ms = (e as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof ms === 'number' && ms >= 0) return ms;
  }
  return undefined;
}
