import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  explore, inlinePool, newState, processPool, redisPool, specFor, EXPLORE_QUEUE,
  type ExploreRunResult, type ExploreRunSpec, type RunPool,
} from '../../libs/explore/src/index.js';
import { deletePrefix } from '../support/cluster.js';
import { pidAlive, runCli, startCli, untilGone, type CliProcess } from '../support/cli-process.js';
import { testPrefix } from '../support/redis.js';

// The pools of issue 12 point 6. They fork the compiled child (dist/), and the explore-workers are the
// built CLI: `npm test` builds first (alone: `npm run build`, then `npx vitest run test/explore`).

const root = resolve(import.meta.dirname, '../..');
const v1 = () => newState(1, { preset: 'v1', set: {} }, 'guided');
const specs: ExploreRunSpec[] = Array.from({ length: 16 }, (_, i) => specFor(v1(), i)!);

async function runAll(pool: RunPool, s: ExploreRunSpec[]): Promise<ExploreRunResult[]> {
  try {
    return await pool.run(s);
  } finally {
    await pool.close();
  }
}

/** What an exploration found, in the order it found it: the keys and the runs that found them. */
async function findingsWith(pool: RunPool, runs: number) {
  const st = v1();
  try {
    const status = await explore(st, { pool, budget: { runs } });
    return { status: { runs: status.runs, coverage: status.coverage, corpus: status.corpus, errors: status.errors }, findings: [...st.findings.values()].map((f) => `${f.index} ${f.key}`) };
  } finally {
    await pool.close();
  }
}

let inline: ExploreRunResult[];
beforeAll(async () => {
  expect(specs.every(Boolean)).toBe(true);
  inline = await runAll(inlinePool(), specs);
});

describe('processPool', () => {
  it('gives the inline results, in the specs\' order', async () => {
    const got = await runAll(processPool(2), specs);
    expect(got.map((r) => r.index)).toEqual(specs.map((s) => s.index));
    expect(got).toEqual(inline);
  });

  it('fails the batch when a child is killed in the middle of it, naming the cause, and replaces the child for the next batch', async () => {
    const pool = processPool(2);
    try {
      await pool.run(specs.slice(0, 2)); // both children started
      const before = pool.pids();
      expect(before).toHaveLength(2);
      const many = [...specs, ...specs, ...specs, ...specs];
      const batch = pool.run(many);
      // the children are busy by then (64 runs take several times longer); a child killed between two
      // runs is replaced for the next one and the batch completes: both are the pool's contract
      await new Promise((r) => setTimeout(r, 100));
      process.kill(before[0]!, 'SIGKILL');
      const outcome = await batch.then((rs) => rs, (e: Error) => e);
      if (outcome instanceof Error) expect(outcome.message).toMatch(new RegExp(`explore child process ${before[0]} was killed by SIGKILL while running run #\\d+`));
      else expect(outcome).toEqual([...inline, ...inline, ...inline, ...inline]);
      expect(await pool.run(specs.slice(0, 4))).toEqual(inline.slice(0, 4));
      expect(pool.pids()).not.toContain(before[0]);
    } finally {
      await pool.close();
    }
  });

  it('close() stops its children', async () => {
    const pool = processPool(2);
    await pool.run(specs.slice(0, 2));
    const pids = pool.pids();
    await pool.close();
    expect(pids.filter(pidAlive)).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGKILL'] as const)('leaves no child behind when its process gets %s', async (sig) => {
    const code = `
      const m = await import(${JSON.stringify(join(root, 'dist/libs/explore/src/index.js'))});
      const pool = m.processPool(2);
      await pool.run([0, 1].map((i) => m.specFor(m.newState(1, { preset: 'v1', set: {} }, 'guided'), i)));
      process.stdout.write(JSON.stringify(pool.pids()) + '\\n');
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const gone = new Promise((r) => parent.once('exit', r));
    const line = await new Promise<string>((r) => parent.stdout!.once('data', (d: Buffer) => r(d.toString())));
    const pids = JSON.parse(line) as number[];
    expect(pids).toHaveLength(2);
    expect(pids.every(pidAlive)).toBe(true);
    parent.kill(sig);
    await gone;
    expect(await untilGone(pids, 20_000)).toEqual([]);
  });
});

describe('over Redis: explore-worker processes', () => {
  const prefix = testPrefix('explore');
  const url = () => inject('redisUrl');
  let workers: CliProcess[] = [];

  beforeAll(async () => {
    workers = [0, 1].map(() => startCli(['explore-worker', '--redis', url(), '--prefix', prefix]));
    await Promise.all(workers.map((w) => w.waitFor(/taking explore runs/, 60_000)));
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await deletePrefix(url(), prefix);
  });

  it('give the inline results, in the specs\' order', async () => {
    const got = await runAll(await redisPool(url(), { prefix }), specs);
    expect(got).toEqual(inline);
  });

  it('find the same findings as processPool(2) and this process for the same seed and budget', async () => {
    const here = await findingsWith(inlinePool(), 64);
    expect(here.findings.length).toBeGreaterThan(0);
    expect(await findingsWith(processPool(2), 64)).toEqual(here);
    expect(await findingsWith(await redisPool(url(), { prefix }), 64)).toEqual(here);
  });

  it('answer a bad payload with an error result and keep serving', async () => {
    const conn = new Redis(url(), { maxRetriesPerRequest: null });
    const queue = new Queue(EXPLORE_QUEUE, { connection: conn, prefix });
    const events = new QueueEvents(EXPLORE_QUEUE, { connection: conn.duplicate(), prefix });
    try {
      await events.waitUntilReady();
      const payloads: unknown[] = ['not a run', { index: 7, seed: 'x' }, { ...specs[3], scenario: { steps: 'none' } }, specs[3]];
      const results: ExploreRunResult[] = [];
      // one after the other: the good spec last, after the bad ones have reached the workers
      for (const [i, data] of payloads.entries()) results.push(await (await queue.add('run', data, { jobId: `bad-${i}` })).waitUntilFinished(events, 60_000));
      expect(results[0]!.error).toMatch(/^bad run spec/);
      expect(results[1]).toMatchObject({ index: 7, violations: [], error: expect.stringMatching(/^bad run spec: seed/) });
      expect(results[2]!.error).toMatch(/^bad scenario in run spec/);
      expect(results[3]).toEqual(inline[3]);
      expect(workers.map((w) => w.child.exitCode)).toEqual([null, null]);
    } finally {
      await events.close();
      await queue.close();
      conn.disconnect();
    }
  });

  it('stop on SIGTERM with exit 0, their children with them', async () => {
    const children = workers.flatMap((w) => (/child processes ([\d, ]+)/.exec(w.stderr())?.[1] ?? '').split(', ').map(Number));
    expect(children).toHaveLength(2);
    for (const w of workers) w.child.kill('SIGTERM');
    const done = await Promise.all(workers.map((w) => w.done));
    expect(done.map((d) => d.code)).toEqual([0, 0]);
    expect(await untilGone(children, 10_000)).toEqual([]);
  });

  it('a batch with no explore-worker on the queue fails, naming the command to start', async () => {
    const pool = await redisPool(url(), { prefix: `${prefix}-none`, noWorkerMs: 1000, pollMs: 200 });
    try {
      await expect(pool.run(specs.slice(0, 2))).rejects.toThrow(/no explore-worker on queue .*vsva-sim explore-worker --redis/);
    } finally {
      await pool.close();
      await deletePrefix(url(), `${prefix}-none`);
    }
  });

  it('explore-worker: Redis unreachable is exit 3 with its cause', async () => {
    const r = await runCli(['explore-worker', '--redis', 'redis://127.0.0.1:1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/connection refused/);
  });
});
