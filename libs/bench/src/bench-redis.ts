import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { resolveRedis, signalPid, untilGone } from '../../cluster/src/index.js';
import { loadConfig } from '../../config/src/index.js';
import { mastersOf } from '../../redis/src/index.js';

/** The Redis a bench runs on, with a key prefix of its own; `close()` deletes its keys (and stops a private server). */
export interface BenchRedis {
  url: string;
  source: 'REDIS_URL' | 'private redis-server';
  prefix: string;
  /** a connection for the bench's own reads (INFO, MEMORY USAGE, cleanup) */
  admin: Redis;
  /** keys of the bench's prefix that are left (0 after cleanup) */
  deleteKeys(prefix?: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * The configured Redis (resolveRedis: VSVA_REDIS_URL, else REDIS_URL) when set, else a private
 * redis-server as the product starts it (append-only file on, `appendfsync always`), in a temporary
 * folder removed after.
 */
export async function openBenchRedis(env: NodeJS.ProcessEnv = process.env, prefix?: string): Promise<BenchRedis> {
  const config = loadConfig(env);
  const dir = mkdtempSync(join(tmpdir(), 'vsva-bench-redis-'));
  const resolved = await resolveRedis(dir, config.redisUrl).catch((e: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const priv = resolved.private;
  if (!priv) rmSync(dir, { recursive: true, force: true });
  const url = resolved.url;
  // never a cluster's prefix (VSVA_PREFIX): every key under this one is deleted at the end
  const pfx = prefix ?? config.benchPrefix ?? `vsvabench-${process.pid}-${randomBytes(3).toString('hex')}`;
  const admin = new Redis(url, { maxRetriesPerRequest: null });
  const deleteKeys = async (p = pfx): Promise<number> => {
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${p}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) n += await admin.unlink(...keys);
    } while (cursor !== '0');
    return n;
  };
  return {
    url, source: resolved.source, prefix: pfx, admin, deleteKeys,
    async close() {
      try {
        if (!priv) await deleteKeys();
      } finally {
        admin.disconnect();
        if (priv) {
          await stopPrivate(priv.pid);
          rmSync(dir, { recursive: true, force: true });
        }
      }
    },
  };
}

/**
 * SIGTERM to the bench's own redis-server (by its pid), then up to 3 s for it to go. (PrivateRedis.stop
 * leaves its 3 s timer running, which holds the process that long after the server is gone.)
 */
async function stopPrivate(pid: number): Promise<void> {
  if (signalPid(pid, 'SIGTERM')) await untilGone([pid], 3000);
}

/** `INFO` as a map of field -> value. */
export async function redisInfo(r: Redis, section?: string): Promise<Record<string, string>> {
  const text = section ? await r.info(section) : await r.info();
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Redis's own CPU seconds (user + sys), from INFO cpu; a Cluster's, summed over its masters. */
export async function redisCpuSeconds(r: Redis): Promise<number> {
  let s = 0;
  for (const node of mastersOf(r)) {
    const i = await redisInfo(node, 'cpu');
    s += Number(i.used_cpu_user ?? 0) + Number(i.used_cpu_sys ?? 0);
  }
  return s;
}

/** CONFIG GET one parameter; 'unknown' when the server refuses CONFIG (managed Redis). */
export async function redisConfig(r: Redis, name: string): Promise<string> {
  try {
    const v = (await r.config('GET', name)) as string[];
    return v[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Bytes a key takes in Redis (MEMORY USAGE ... SAMPLES 0: every element counted), 0 when absent. */
export async function memoryUsage(r: Redis, key: string): Promise<number> {
  const v = (await r.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
  return v ?? 0;
}

/**
 * Runs `fn` with the private Redis's `appendfsync` set to `policy`, then restores it. Only on the
 * bench's own redis-server: a Redis from REDIS_URL is never reconfigured (returns null).
 */
export async function withFsync<T>(redis: BenchRedis, policy: 'always' | 'everysec' | 'no', fn: () => Promise<T>): Promise<T | null> {
  if (redis.source !== 'private redis-server') return null;
  const before = await redisConfig(redis.admin, 'appendfsync');
  await redis.admin.config('SET', 'appendfsync', policy);
  try {
    return await fn();
  } finally {
    await redis.admin.config('SET', 'appendfsync', before);
  }
}

export type CommandStats = Map<string, { calls: number; usec: number }>;

/** INFO commandstats: calls and microseconds per command (since the server started); a Cluster's, summed over its masters. */
export async function commandStats(r: Redis): Promise<CommandStats> {
  const out: CommandStats = new Map();
  for (const node of mastersOf(r)) {
    for (const [k, v] of Object.entries(await redisInfo(node, 'commandstats'))) {
      const calls = /calls=(\d+)/.exec(v);
      const usec = /usec=(\d+)/.exec(v);
      const name = k.replace(/^cmdstat_/, '');
      const had = out.get(name) ?? { calls: 0, usec: 0 };
      if (calls && usec) out.set(name, { calls: had.calls + Number(calls[1]), usec: had.usec + Number(usec[1]) });
    }
  }
  return out;
}

/** What Redis did between two snapshots, per unit of work (`per`): calls and µs, in all and for the top commands by time. */
export function commandsPer(before: CommandStats, after: CommandStats, per: number, top = 5): { calls: number; usec: number; top: Record<string, { calls: number; usec: number }> } {
  const rows = [...after].map(([cmd, a]) => {
    const b = before.get(cmd) ?? { calls: 0, usec: 0 };
    return { cmd, calls: (a.calls - b.calls) / per, usec: (a.usec - b.usec) / per };
  }).filter((x) => x.calls > 0);
  rows.sort((x, y) => y.usec - x.usec);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    calls: r2(rows.reduce((s, x) => s + x.calls, 0)),
    usec: r2(rows.reduce((s, x) => s + x.usec, 0)),
    top: Object.fromEntries(rows.slice(0, top).map((x) => [x.cmd, { calls: r2(x.calls), usec: r2(x.usec) }])),
  };
}
