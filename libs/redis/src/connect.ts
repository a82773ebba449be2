import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from './redact.js';
import { isClusterUrl, parseClusterUrl } from '../../config/src/index.js';

/**
 * The one way to connect: a server (`redis://`) or a Redis Cluster (`redis+cluster://`, redis-url.ts).
 * A Cluster answers every command the product sends (each key, or each script's keys, in one slot:
 * the keys carry hash tags), so it is handed out as a Redis; `isCluster` tells the two apart where it
 * matters (SCAN, INFO and CONFIG reach one node).
 */
export function connectRedis(url: string, opts: RedisOptions = {}): Redis {
  if (!isClusterUrl(url)) return new Redis(url, opts);
  const t = parseClusterUrl(url);
  const { lazyConnect, enableOfflineQueue, retryStrategy, ...perNode } = opts;
  const cluster = new Cluster(t.nodes, {
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(retryStrategy ? { clusterRetryStrategy: (n: number) => retryStrategy(n) ?? null } : {}),
    redisOptions: { ...perNode, ...(t.username ? { username: t.username } : {}), ...(t.password ? { password: t.password } : {}), ...(t.tls ? { tls: {} } : {}) },
  });
  return cluster as unknown as Redis;
}

/** Every master of a connection: itself for a server, each master node for a Cluster (what SCAN must visit). */
export function mastersOf(r: Redis): Redis[] {
  return (r as unknown as { isCluster?: boolean }).isCluster ? (r as unknown as Cluster).nodes('master') : [r];
}

/**
 * Deadlines on every Redis call of the CLI (issue 8): a connection that cannot be made, a command that
 * gets no answer, a server that refuses: each fails within seconds instead of retrying for ever.
 * BullMQ's own connections (workers block on purpose) are not made here.
 */
export const CONNECT_TIMEOUT_MS = 3000;
export const COMMAND_TIMEOUT_MS = 5000;

export function boundedRedisOptions(extra: RedisOptions = {}): RedisOptions {
  return {
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // reconnect, but a command waits for it at most commandTimeout
    retryStrategy: (n: number) => Math.min(100 * n, 1000),
    ...extra,
  };
}

/** A connection whose every command is bounded; its errors surface through the commands. */
export function boundedRedis(url: string, extra: RedisOptions = {}): Redis {
  const r = connectRedis(url, boundedRedisOptions(extra));
  r.on('error', () => {});
  return r;
}

/** Why Redis cannot be used, in one line a user can act on. */
export class RedisUnavailableError extends Error {
  constructor(readonly url: string, readonly cause_: string) {
    super(`Redis at ${redactUrl(url)}: ${cause_}`);
  }
}

/** Names the cause of a connection or command failure the way an operator would look for it. */
export function describeRedisError(url: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException & { message: string };
  const m = String(err?.message ?? e);
  const tls = url.startsWith('rediss:');
  if (/WRONGPASS|invalid username-password|NOAUTH|AUTH.*(without any password|failed)/i.test(m)) return `authentication failed (${m.split('\n')[0]}): check the user and password in REDIS_URL`;
  if (/^OOM|OOM command not allowed/.test(m)) return `out of memory: ${m.split('\n')[0]} (raise maxmemory or free space; vsva-sim never evicts)`;
  if (/SSL|TLS|EPROTO|wrong version number|certificate|handshake/i.test(m) || (tls && /ECONNRESET|socket hang up|Connection is closed/i.test(m))) {
    return `TLS handshake failed (${m.split('\n')[0]}): ${tls ? 'rediss:// needs a TLS-enabled server; use redis:// for a plain one' : 'the server wants TLS: use rediss://'}`;
  }
  if (err?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(m)) return 'connection refused: is redis-server running on that host and port?';
  if (err?.code === 'ENOTFOUND' || /ENOTFOUND|EAI_AGAIN/.test(m)) return 'host not found: check the host name in REDIS_URL';
  if (/ETIMEDOUT|timed? ?out|Command timed out/i.test(m)) {
    return `no answer within the deadline (${m.split('\n')[0]}): ${tls ? 'the TLS handshake got no answer (a plain server? use redis://), or ' : ''}the server is unreachable, paused or overloaded`;
  }
  if (/Connection is closed|ECONNRESET|socket hang up/i.test(m)) return `the server closed the connection (${m.split('\n')[0]})${tls ? '' : '; if it wants TLS, use rediss://'}`;
  return m.split('\n')[0]!;
}

export interface RedisProbe {
  version: string;
  usedMemory: number;
  maxMemory: number;
  policy: string;
}

function infoField(info: string, k: string): string | undefined {
  return new RegExp(`^${k}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** Out of memory for a writer: maxmemory set, reached, and nothing may be evicted. */
export function oomOf(p: RedisProbe): string | undefined {
  if (p.maxMemory > 0 && p.policy === 'noeviction' && p.usedMemory >= p.maxMemory) {
    return `out of memory: used_memory ${p.usedMemory} B >= maxmemory ${p.maxMemory} B with maxmemory-policy noeviction, so every write is refused (raise maxmemory or free space)`;
  }
  return undefined;
}

/**
 * Connects, PINGs and reads INFO within `deadlineMs`, on a connection that does not retry; throws
 * RedisUnavailableError with the cause (refused, not found, TLS, password, timeout, out of memory).
 * Reads only: `status` must write nothing.
 */
export async function probeRedis(url: string, deadlineMs = 5000, opts: { allowOom?: boolean } = {}): Promise<RedisProbe> {
  const r = connectRedis(url, {
    lazyConnect: true, connectTimeout: Math.min(deadlineMs, CONNECT_TIMEOUT_MS), commandTimeout: deadlineMs,
    maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: true,
  });
  let last: unknown;
  r.on('error', (e) => (last = e));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(last ?? new Error(`timed out after ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    const info = await Promise.race([
      (async () => {
        await r.connect();
        await r.ping();
        return (await r.info()) as string;
      })(),
      deadline,
    ]);
    const p: RedisProbe = {
      version: infoField(info, 'redis_version') ?? '?',
      usedMemory: Number(infoField(info, 'used_memory') ?? 0),
      maxMemory: Number(infoField(info, 'maxmemory') ?? 0),
      policy: infoField(info, 'maxmemory_policy') ?? '?',
    };
    const oom = oomOf(p);
    if (oom && !opts.allowOom) throw new RedisUnavailableError(url, oom);
    return p;
  } catch (e) {
    if (e instanceof RedisUnavailableError) throw e;
    throw new RedisUnavailableError(url, describeRedisError(url, last && !(e instanceof Error && /WRONGPASS|NOAUTH|OOM/.test(e.message)) ? last : e));
  } finally {
    clearTimeout(timer);
    r.disconnect();
  }
}
