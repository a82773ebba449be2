import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Component, Envelope } from '../../libs/contracts/src/index.js';
import { runKeys } from '../../libs/event-log/src/index.js';
import { runQueue } from '../../libs/cluster/src/index.js';
import { loadConfig } from '../../libs/config/src/index.js';
import { killService, type TestCluster } from '../support/cluster.js';

/** What the killed service was doing when it died. */
export interface KillInfo {
  /** seq of the input whose appearance triggered the kill */
  atSeq: number;
  /** the data-queue jobs it held (BullMQ will redeliver them), on the run's partition `queue` */
  held: Array<{ jobId: string; envelopeId: string; recorded: boolean; queue: string }>;
}

/**
 * Follows the run's log (XREAD) and SIGKILLs `component` as soon as it records an input at or after
 * `minSeq`: the moment it is most likely between its append and the end of its job, the window where
 * a crash leaves a recorded input to be redelivered.
 */
export async function killOnInput(c: TestCluster, runId: string, component: Component, minSeq: number, timeoutMs = 30_000): Promise<KillInfo> {
  const keys = runKeys(runId, c.cfg.prefix);
  const r = new Redis(c.cfg.redisUrl);
  try {
    const deadline = Date.now() + timeoutMs;
    let last = '0';
    for (;;) {
      if (Date.now() > deadline) throw new Error(`${component} recorded no input after seq ${minSeq} within ${timeoutMs} ms`);
      const res = (await r.xread('COUNT', 1000, 'BLOCK', 500, 'STREAMS', keys.log, last)) as Array<[string, Array<[string, string[]]>]> | null;
      for (const [id, fields] of res?.[0]?.[1] ?? []) {
        last = id;
        const e = JSON.parse(fields[1]!) as { seq: number; kind: string; component: string };
        if (e.seq >= minSeq && e.kind === 'input' && e.component === component) {
          await killService(c, component);
          return { atSeq: e.seq, held: await heldJobs(c, r, runId, component) };
        }
      }
    }
  } finally {
    r.disconnect();
  }
}

async function heldJobs(c: TestCluster, r: Redis, runId: string, component: Component): Promise<KillInfo['held']> {
  const queue = await runQueue(r, c.cfg.prefix, component, runId, loadConfig().partitions);
  const q = new Queue(queue, { connection: { url: c.cfg.redisUrl }, prefix: c.cfg.prefix });
  try {
    const active = await q.getActive();
    return Promise.all(active.map(async (j) => {
      const env = (j.data as { data: Envelope }).data;
      const recorded = (await r.hexists(runKeys(runId, c.cfg.prefix).marks, `${component}|${env.id}`)) === 1;
      return { jobId: j.id!, envelopeId: env.id, recorded, queue };
    }));
  } finally {
    await q.close();
  }
}

/** A job's fate after the run: how often BullMQ found it stalled, and whether it completed. */
export async function jobFate(c: TestCluster, queue: string, jobId: string): Promise<{ stalled: number; state: string }> {
  const q = new Queue(queue, { connection: { url: c.cfg.redisUrl }, prefix: c.cfg.prefix });
  try {
    const job = await q.getJob(jobId);
    return { stalled: job?.stalledCounter ?? 0, state: job ? await job.getState() : 'missing' };
  } finally {
    await q.close();
  }
}
