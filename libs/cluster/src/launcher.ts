import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom } from 'rxjs';
import type { Redis } from 'ioredis';
import { COMPONENTS, type Component } from '../../contracts/src/index.js';
import { boundedRedis, probeRedis, startPrivateRedis, type PrivateRedis } from '../../redis/src/index.js';
import { BullMqClient, queueName } from '../../transport/src/index.js';
import type { ClusterConfig } from './config.js';
import { holderIsDeadHere, readLeases, type LeaseHolder } from './lease.js';
import { EXIT_LEASE_HELD } from './service-lease.js';

/** The package root: the nearest folder above this file with a package.json (from src or from dist). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
/**
 * Where a compiled service lives (`npm run build`): its bundle dist/services/<service>.mjs (starts
 * ~4x faster), else tsc's dist/apps/<service>/src/main.js.
 */
export function serviceEntry(c: Component): string {
  const bundle = join(packageRoot(), 'dist', 'services', `${c}.mjs`);
  const plain = join(packageRoot(), 'dist', 'apps', c, 'src', 'main.js');
  // tsc rewrites every output: a bundle older than its entry was built from older code
  const fresh = existsSync(bundle) && (!existsSync(plain) || statSync(bundle).mtimeMs >= statSync(plain).mtimeMs);
  return fresh ? bundle : plain;
}

export interface ResolvedRedis {
  url: string;
  source: 'REDIS_URL' | 'private redis-server';
  /** set when this process started it: stop it when done */
  private?: PrivateRedis;
}

/**
 * REDIS_URL if set (it must answer within the deadline: the error names the cause), else a private
 * redis-server with its append-only file in `dataDir`.
 */
export async function resolveRedis(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedRedis> {
  const url = env.VSVA_REDIS_URL || env.REDIS_URL;
  if (url) {
    await probeRedis(url, 5000);
    return { url, source: 'REDIS_URL' };
  }
  const r = await startPrivateRedis({ dir: dataDir, appendonly: true });
  return { url: r.url, source: 'private redis-server', private: r };
}

/** A service as its heartbeat shows it: its lease's holder. */
export interface Health extends LeaseHolder {
  component: Component;
  uptimeMs: number;
  /** since the last heartbeat */
  ageMs: number;
  stats: Record<string, number>;
}

function healthOf(c: Component, h: LeaseHolder | null, now = Date.now()): Health | null {
  // a lease outlives a SIGKILLed holder by up to its ttl; on this machine its death is plain to see
  if (h && holderIsDeadHere(h)) return null;
  return h ? { ...h, component: c, uptimeMs: now - h.startedAt, ageMs: now - h.beatAt, stats: h.stats ?? {} } : null;
}

/**
 * Each service's health from its lease (one MGET, writes nothing): held means alive, since a holder
 * that stops renewing loses it within the lease's ttl. `redis` reuses a connection; else a bounded one.
 */
export async function clusterHealth(cfg: ClusterConfig, redis?: Redis): Promise<Record<Component, Health | null>> {
  const r = redis ?? boundedRedis(cfg.redisUrl);
  try {
    const leases = await readLeases(r, cfg.prefix, COMPONENTS);
    const now = Date.now();
    return Object.fromEntries(COMPONENTS.map((c) => [c, healthOf(c, leases[c], now)])) as Record<Component, Health | null>;
  } finally {
    if (!redis) r.disconnect();
  }
}

/** One service's counters, asked on its control queue (a round trip: for tests and the bench, not for liveness). */
export async function serviceStats(cfg: ClusterConfig, c: Component, timeoutMs = 5000): Promise<{ pid: number; stats: Record<string, number> } | null> {
  const client = new BullMqClient({ url: cfg.redisUrl, prefix: cfg.prefix, queue: queueName(c, 'ctl'), service: c, timeoutMs });
  try {
    return await firstValueFrom(client.send<{ pid: number; stats: Record<string, number> }>('health', {}));
  } catch {
    return null;
  } finally {
    await client.close();
  }
}

export interface StartedService {
  component: Component;
  pid: number;
  child: ChildProcess;
  logFile: string;
}

/**
 * Starts services as separate Node processes; their output goes to `<logDir>/<service>.log`; `env` adds
 * to this process's (e.g. VSVA_LOCK_MS). Unless detached, a service stops when this process is gone.
 */
export function spawnServices(cfg: ClusterConfig, components: readonly Component[], opts: { logDir: string; detached?: boolean; env?: NodeJS.ProcessEnv }): StartedService[] {
  mkdirSync(opts.logDir, { recursive: true });
  const missing = components.map(serviceEntry).filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`${missing[0]} is missing: run 'npm run build' first`);
  return components.map((component) => {
    const logFile = join(opts.logDir, `${component}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [serviceEntry(component)], {
      env: { ...process.env, ...opts.env, VSVA_REDIS_URL: cfg.redisUrl, VSVA_PREFIX: cfg.prefix, ...(opts.detached ? {} : { VSVA_EXIT_WITH_PARENT: '1' }) },
      stdio: ['ignore', fd, fd],
      detached: opts.detached ?? false,
    });
    if (opts.detached) child.unref();
    return { component, pid: child.pid!, child, logFile };
  });
}

/**
 * Waits until every named service holds its lease, or throws naming the ones that did not. A service
 * of `started` that exits first is reported with its log; one that exited because another live process
 * holds its lease counts as up (that one serves the queue).
 */
export async function waitHealthy(cfg: ClusterConfig, components: readonly Component[], timeoutMs = 20_000, started: StartedService[] = []): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const redis = boundedRedis(cfg.redisUrl);
  try {
    let missing = [...components];
    for (;;) {
      const hs = await clusterHealth(cfg, redis).catch(() => null);
      if (hs) missing = missing.filter((c) => !hs[c]);
      if (!missing.length) return;
      const dead = started.filter((s) => s.child.exitCode !== null && s.child.exitCode !== EXIT_LEASE_HELD && missing.includes(s.component));
      if (dead.length) throw new Error(`service(s) exited at start: ${dead.map((d) => `${d.component} (exit ${d.child.exitCode}, see ${d.logFile})`).join(', ')}`);
      if (Date.now() > deadline) throw new Error(`service(s) not up after ${timeoutMs} ms (no heartbeat): ${missing.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    redis.disconnect();
  }
}

/** SIGTERM (services drain in-flight work), then SIGKILL after `graceMs`. */
export async function stopServices(services: StartedService[], graceMs = 5000): Promise<void> {
  await Promise.all(services.map(async (s) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
    s.child.kill('SIGTERM');
    const t = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
  }));
}
