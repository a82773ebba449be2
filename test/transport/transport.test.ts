import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  BullMqClient,
  BullMqServer,
  RemoteError,
  RequestTimeoutError,
  type BullMqClientOptions,
  type MalformedJobInfo,
} from '../../libs/transport/src/index.js';
import { EchoModule } from '../fixtures/transport/echo.controller.js';
import { testPrefix } from '../support/redis.js';
import { EchoProcess, ensureFixtureBuilt } from './echo-process.js';
import { deleteKeysWithPrefix } from './redis-keys.js';

const url = inject('redisUrl');
const prefix = testPrefix('transport');

const clients: BullMqClient[] = [];
const children: EchoProcess[] = [];

function client(options: Partial<BullMqClientOptions> & { queue: string; service: string }): BullMqClient {
  const c = new BullMqClient({ url, prefix, timeoutMs: 15_000, ...options });
  clients.push(c);
  return c;
}

async function startEcho(queue: string): Promise<EchoProcess> {
  const p = await EchoProcess.start({ url, prefix, queue });
  children.push(p);
  return p;
}

function send<T>(c: BullMqClient, pattern: string, data: unknown): Promise<T> {
  return firstValueFrom(c.send<T>(pattern, data));
}

function emit(c: BullMqClient, pattern: string, data: unknown): Promise<unknown> {
  return firstValueFrom(c.emit(pattern, data), { defaultValue: undefined });
}

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(() => {
  ensureFixtureBuilt();
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled(children.map((p) => p.stop()));
  await deleteKeysWithPrefix(url, prefix);
});

describe('BullMQ transport between two processes (test process: client, echo-service: server)', () => {
  const service = 'echo';
  let echo: BullMqClient;
  let ctl: BullMqClient;

  beforeAll(async () => {
    await startEcho('vsva.echo');
    echo = client({ queue: 'vsva.echo', service });
    ctl = client({ queue: 'vsva.echo.ctl', service });
  });

  it('request/reply: echo returns its input, 200 concurrent requests each get their own reply', async () => {
    expect(await send(echo, 'echo', { pasid: 7, name: 'bind' })).toEqual({ pasid: 7, name: 'bind' });

    const inputs = Array.from({ length: 200 }, (_, i) => ({ i, payload: `req-${i}-${'x'.repeat(i % 17)}` }));
    const replies = await Promise.all(inputs.map((x) => send(echo, 'echo', x)));
    expect(replies).toEqual(inputs);

    // On the control queue (concurrency 16) later requests finish first: correlation is by id, not order.
    const order: number[] = [];
    const slow = Array.from({ length: 16 }, (_, i) =>
      send<{ slept: number; tag: number }>(ctl, 'slow', { ms: (16 - i) * 15, tag: i }).then((r) => {
        order.push(r.tag);
        return r;
      }),
    );
    const slowReplies = await Promise.all(slow);
    expect(slowReplies.map((r) => r.tag)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(slowReplies.map((r) => r.slept)).toEqual(Array.from({ length: 16 }, (_, i) => (16 - i) * 15));
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
  });

  it('events: three notes are all seen by the server, in order', async () => {
    const run = Math.random().toString(36).slice(2);
    for (const n of [1, 2, 3]) await emit(echo, 'note', { run, n });
    // 'notes' goes through the same FIFO data queue, so it runs after the three events
    const notes = await send<Array<{ run: string; n: number }>>(echo, 'notes', {});
    expect(notes.filter((x) => x.run === run)).toEqual([1, 2, 3].map((n) => ({ run, n })));

    // an event handler returning an Observable is awaited to its end before the next job runs
    await emit(echo, 'note-later', { run, ms: 150 });
    const later = await send<Array<{ run: string }>>(echo, 'notes', {});
    expect(later.filter((x) => x.run === run)).toEqual([...[1, 2, 3].map((n) => ({ run, n })), { run, ms: 150 }]);
  });

  it('a handler error comes back to the caller as an error with its message', async () => {
    const err = await send(echo, 'fail', { message: 'PASID 7 not allocated (-EINVAL)' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ message: 'PASID 7 not allocated (-EINVAL)', pattern: 'fail', service, status: 'error' });

    // Nest's exception filter hides anything but an RpcException
    const plain = await send(echo, 'fail-plain', { message: 'secret detail' }).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(RemoteError);
    expect((plain as Error).message).toBe('Internal server error');

    const unknown = await send(echo, 'no-such-pattern', {}).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(RemoteError);
    expect((unknown as Error).message).toContain("no handler for pattern 'no-such-pattern'");

    // the server is still serving
    expect(await send(echo, 'echo', 'still here')).toBe('still here');
  });

  it('timeout: a slow handler and a queue nobody listens on both fail with RequestTimeoutError naming pattern and service', async () => {
    const quick = client({ queue: 'vsva.echo.ctl', service: 'vfio-type1', timeoutMs: 200 });
    const patient = client({ queue: 'vsva.echo.ctl', service: 'vfio-type1', timeoutMs: 0 });
    // the same slow handler, once with no timeout: the timed-out request must fail before that one answers
    const answered = send(patient, 'slow', { ms: 2000 }).then(() => 'answered' as const);
    const timedOut = send(quick, 'slow', { ms: 2000 }).catch((e: unknown) => e);
    expect(await Promise.race([timedOut.then(() => 'timed out' as const), answered])).toBe('timed out');
    const err = await timedOut;
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as Error).message).toBe("request 'slow' to service 'vfio-type1' timed out after 200 ms");
    expect(await answered).toBe('answered');

    const nobody = client({ queue: 'vsva.nobody-listens', service: 'host-vtd', timeoutMs: 200 });
    await nobody.connect();
    const err2 = await send(nobody, 'health', {}).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(RequestTimeoutError);
    expect((err2 as Error).message).toBe("request 'health' to service 'host-vtd' timed out after 200 ms");
    // the request nobody took is withdrawn, so a server starting later does not act on it
    const target = nobody.unwrap<Queue>();
    await until(async () => ((await target.count()) === 0 ? true : undefined));

    // the late reply of the timed-out 'slow' is dropped; the client keeps working
    expect(await send(quick, 'echo', 42)).toBe(42);
  });

  it('close drains: SIGTERM during a request still delivers its reply, the child exits 0, queued jobs wait for the next process', async () => {
    const queue = 'vsva.drain';
    const first = await startEcho(queue);
    const drain = client({ queue, service: 'drain' });
    const inFlight = send<{ slept: number; tag: string }>(drain, 'slow', { ms: 500, tag: 'in-flight' });
    await first.waitForLine((l) => l === 'started slow "in-flight"');
    const queued = send(drain, 'echo', 'queued behind'); // not picked up: the worker is closing
    first.kill('SIGTERM');

    expect(await inFlight).toEqual({ slept: 500, tag: 'in-flight' });
    expect(await first.exited).toEqual({ code: 0, signal: null });

    // nothing lost: the next process on the queue answers the request the first one left
    await startEcho(queue);
    expect(await queued).toBe('queued behind');
  });
});

describe('BullMqServer in process (NestFactory.createMicroservice)', () => {
  const queue = 'vsva.inproc';
  const malformed: Array<{ reason: string; raw: unknown; info: MalformedJobInfo }> = [];
  let app: INestMicroservice;
  let connection: Redis;
  let raw: Queue;
  let c: BullMqClient;

  beforeAll(async () => {
    app = await NestFactory.createMicroservice<MicroserviceOptions>(EchoModule, {
      strategy: new BullMqServer({
        url,
        prefix,
        queues: [{ name: queue }],
        logger: false,
        onMalformed: (reason, rawData, info) => {
          malformed.push({ reason, raw: rawData, info });
        },
      }),
      logger: ['error'],
    });
    await app.listen();
    connection = new Redis(url, { maxRetriesPerRequest: null });
    raw = new Queue(queue, { connection, prefix });
    c = client({
      queue,
      service: 'inproc',
      jobIdOf: (_pattern, data) => (data as { eventId?: string }).eventId,
    });
  });

  afterAll(async () => {
    await raw?.close();
    connection?.disconnect();
    await app?.close();
  });

  it('a malformed job goes to onMalformed, completes, and does not crash the server', async () => {
    const job = await raw.add('junk', { nope: 1 });
    const entry = await until(() => malformed.find((m) => m.info.jobId === job.id));
    expect(entry.raw).toEqual({ nope: 1 });
    expect(entry.reason).toContain('pattern');
    expect(entry.info.queue).toBe(queue);
    // the job completes (it is not retried, and not left failed)
    await until(async () => ((await raw.getJobState(job.id!)) === 'completed' ? true : undefined));

    // a request without a reply queue, and an event nobody handles, are malformed too
    const halfRequest = await raw.add('half', { pattern: 'echo', data: 1, id: 'abc' });
    const ghost = await raw.add('ghost', { pattern: 'ghost-event', data: {} });
    const half = await until(() => malformed.find((m) => m.info.jobId === halfRequest.id));
    expect(half.reason).toContain('replyTo');
    const ghostEntry = await until(() => malformed.find((m) => m.info.jobId === ghost.id));
    expect(ghostEntry.reason).toContain("no event handler for pattern 'ghost-event'");

    expect(await send(c, 'echo', { alive: true })).toEqual({ alive: true });
  });

  it('jobIdOf dedupes a re-sent event while its job exists, whatever characters the id has', async () => {
    const before = await send<unknown[]>(c, 'notes', {});
    const ids = ['run-1:vm-2:evt-3:x', '42', 'a%3Ab', 'a:b'];
    for (const eventId of ids) {
      await emit(c, 'note', { eventId });
      await emit(c, 'note', { eventId }); // duplicate: same job id, dropped
    }
    const after = await send<Array<{ eventId: string }>>(c, 'notes', {});
    expect(after.slice(before.length)).toEqual(ids.map((eventId) => ({ eventId })));
  });

  it('an event whose handler throws is delivered again with eventAttempts, and only then', async () => {
    const retrying = client({ queue, service: 'inproc', eventAttempts: 4, retryDelayMs: 20 });
    await emit(retrying, 'note-flaky', { key: 'k1', failures: 2 });
    const seen = await until(async () => (await send<Array<{ key?: string; tries?: number }>>(c, 'notes', {})).find((n) => n.key === 'k1'));
    expect(seen.tries).toBe(3);
    // without attempts, the first failure is final: the job ends failed and nothing is recorded
    await emit(c, 'note-flaky', { key: 'k2', failures: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect((await send<Array<{ key?: string }>>(c, 'notes', {})).some((n) => n.key === 'k2')).toBe(false);
  });

  it('dispatchEvent is public and awaitable, and connects by itself', async () => {
    const fresh = client({ queue, service: 'inproc' });
    await fresh.dispatchEvent({ pattern: 'note', data: { direct: true } });
    const notes = await send<unknown[]>(fresh, 'notes', {});
    expect(notes.at(-1)).toEqual({ direct: true });
  });
});
