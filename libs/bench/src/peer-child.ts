/**
 * The raw-BullMQ peers' other process (no Nest, no transport): forked by the bench with a JSON
 * config as argv[2], talks to it over IPC.
 *
 * - `oneway`: one Worker per queue; records the time each job is processed; on `report`, sends
 *   the timestamps and its CPU use. With `xadd`, the processor first appends the job's data to a
 *   stream of its own (XADD, awaited): the job-plus-log-entry a user would write first.
 * - `pong`: one Worker on the ping queue; each job's processor adds a reply job (same id) to the
 *   requester's reply queue, with a Queue on the Worker's connection (what the transport's server does).
 */
import { Queue, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../redis/src/index.js';

export interface OnewayChildConfig {
  mode: 'oneway';
  url: string;
  prefix: string;
  /** one Worker each (a service's partitions, or this replica's share of them) */
  queues: string[];
  concurrency: number;
  workerOptions: Partial<WorkerOptions>;
  /** the stream each job's data is appended to before the job completes */
  xadd?: string;
}

export interface PongChildConfig {
  mode: 'pong';
  url: string;
  prefix: string;
  queue: string;
  replyQueue: string;
  concurrency: number;
  workerOptions: Partial<WorkerOptions>;
}

export type PeerChildConfig = OnewayChildConfig | PongChildConfig;

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'progress'; done: number }
  | { type: 'report'; ts: number[]; cpuUs: number }
  | { type: 'error'; message: string };

const send = (m: ChildMessage) => process.send?.(m);

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]!) as PeerChildConfig;
  const connection = connectRedis(cfg.url, { maxRetriesPerRequest: null });
  const ts: number[] = [];
  let workers: Worker[];
  let replies: Queue | undefined;
  let log: Redis | undefined;
  if (cfg.mode === 'oneway') {
    const stream = cfg.xadd;
    log = stream ? connectRedis(cfg.url, { maxRetriesPerRequest: null }) : undefined;
    const l = log;
    workers = cfg.queues.map((queue) => new Worker(queue, async (job: Job) => {
      if (stream && l) await l.xadd(stream, '*', 'e', JSON.stringify(job.data));
      ts.push(Date.now());
    }, { ...cfg.workerOptions, connection, prefix: cfg.prefix, concurrency: cfg.concurrency }));
  } else {
    replies = new Queue(cfg.replyQueue, { connection, prefix: cfg.prefix });
    const q = replies;
    workers = [new Worker(cfg.queue, async (job: Job) => {
      const { id } = job.data as { id: string };
      await q.add('reply', { id, response: { ok: true, pid: process.pid }, isDisposed: true }, { removeOnComplete: true, removeOnFail: 1000 });
    }, { ...cfg.workerOptions, connection, prefix: cfg.prefix, concurrency: cfg.concurrency })];
  }
  for (const w of workers) w.on('error', (e: Error) => send({ type: 'error', message: e.message }));
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  await replies?.waitUntilReady();
  let cpu0 = process.cpuUsage();
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'report') {
      // since the last report: one trial's worth
      const c = process.cpuUsage(cpu0);
      cpu0 = process.cpuUsage();
      send({ type: 'report', ts: ts.splice(0), cpuUs: c.user + c.system });
    } else if (m.type === 'stop') {
      await Promise.all(workers.map((w) => w.close()));
      await replies?.close();
      await log?.quit().catch(() => log?.disconnect());
      await connection.quit().catch(() => connection.disconnect());
      process.exit(0);
    }
  });
  send({ type: 'ready' });
}

main().catch((e: Error) => {
  send({ type: 'error', message: e.stack ?? e.message });
  process.exit(1);
});
