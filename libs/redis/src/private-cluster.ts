import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from './private-server.js';

export interface PrivateRedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…`: every master a seed */
  url: string;
  nodes: PrivateRedis[];
  dir: string;
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster on loopback, for the tests and the bench (never a mock): `masters` redis-servers
 * started with `--cluster-enabled yes`, each in a folder of its own, joined by `redis-cli --cluster
 * create` (no replicas: one machine), and waited for until every node says `cluster_state:ok`.
 */
export async function startPrivateRedisCluster(opts: Pick<PrivateRedisOptions, 'appendfsync' | 'appendonly'> & { masters?: number; dir?: string } = {}): Promise<PrivateRedisCluster> {
  const masters = opts.masters ?? 3;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'vsva-redis-cluster-'));
  const nodes: PrivateRedis[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(await startPrivateRedis({
        ...opts, dir: join(dir, `node-${i}`),
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'],
      }));
    }
    const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
    await redisCli(['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], 60_000);
    await untilClusterOk(nodes.map((n) => n.url), 30_000);
    return { url: `redis+cluster://${addrs.join(',')}`, nodes, dir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

function redisCli(args: string[], ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('error', (e) => reject(new Error(`could not run redis-cli (is it on PATH?): ${e.message}`)));
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`redis-cli ${args.slice(0, 2).join(' ')} failed (${sig ?? `exit ${code}`}): ${out.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

/** Until every node reports cluster_state:ok (slots assigned and agreed), or throws after `ms`. */
async function untilClusterOk(urls: string[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const conns = urls.map((u) => new Redis(u, { maxRetriesPerRequest: 1 }));
  try {
    for (;;) {
      const infos = await Promise.all(conns.map((c) => c.cluster('INFO') as Promise<string>));
      if (infos.every((i) => /cluster_state:ok/.test(i))) return;
      if (Date.now() > deadline) throw new Error(`the Redis Cluster did not reach cluster_state:ok within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    for (const c of conns) c.disconnect();
  }
}
