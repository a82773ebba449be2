/**
 * The raw-BullMQ peers' other process (no Nest, no transport): forked by the bench with a JSON
 * config as argv[2], talks to it over IPC.
 *
 * - `oneway`: one Worker per queue; records the time each job is processed; on `report`, sends
 *   the timestamps and its CPU use. With `xadd`, the processor first appends the job's data to a
 *   stream of its own (XADD, awaited): the job-plus-log-entry a user would write first. With `next`,
 *   a chain: the processor adds the job's next hop to another queue, as a service sends a command on.
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
  /**
   * A chain (a job per hop, as the cluster's hops are): beside each queue, the queue its jobs go on to.
   * While a job's data has `hops` left, its processor adds the next job there (on a connection of its
   * own, as a service's outbox) before the job completes, with `jobOptions` and the id `<chain>.<hops left>`.
   */
  next?: string[];
  jobOptions?: Record<string, unknown>;
}

/** The data of a chain peer's job. */
export interface ChainJobData {
  pattern: string;
  data: unknown;
  chain: string;
  hops: number;
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
  let outbox: Redis | undefined;
  let nexts: Queue[] = [];
  if (cfg.mode === 'oneway') {
    const stream = cfg.xadd;
    log = stream ? connectRedis(cfg.url, { maxRetriesPerRequest: null }) : undefined;
    const l = log;
    if (cfg.next) {
      outbox = connectRedis(cfg.url, { maxRetriesPerRequest: 1 });
      const o = outbox;
      nexts = cfg.next.map((q) => new Queue(q, { connection: o, prefix: cfg.prefix }));
    }
    const opts = cfg.jobOptions ?? {};
    workers = cfg.queues.map((queue, i) => new Worker(queue, async (job: Job) => {
      if (stream && l) await l.xadd(stream, '*', 'e', JSON.stringify(job.data));
      const d = job.data as Partial<ChainJobData>;
      if (nexts[i] && d.hops) await nexts[i].add('deliver', { ...d, hops: d.hops - 1 }, { ...opts, jobId: `${d.chain}.${d.hops - 1}` });
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
      for (const q of nexts) await q.close();
      await outbox?.quit().catch(() => outbox?.disconnect());
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
