import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom } from 'rxjs';
import { Queue } from 'bullmq';
import { COMPONENTS, type Component } from '../../contracts/src/index.js';
import { startPrivateRedis, waitForRedis, type PrivateRedis } from '../../redis/src/private-server.js';
import { BullMqClient, queueName } from '../../transport/src/index.js';
import type { ClusterConfig } from './config.js';

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

/** REDIS_URL if set (it must answer), else a private redis-server with its append-only file in `dataDir`. */
export async function resolveRedis(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedRedis> {
  const url = env.VSVA_REDIS_URL ?? env.REDIS_URL;
  if (url) {
    await waitForRedis(url, 3000);
    return { url, source: 'REDIS_URL' };
  }
  const r = await startPrivateRedis({ dir: dataDir, appendonly: true });
  return { url: r.url, source: 'private redis-server', private: r };
}

export interface Health {
  component: Component;
  pid: number;
  uptimeMs: number;
  runs: number;
  stats: Record<string, number>;
}

/** Asks a service's control queue for its health; null when nobody listens or it does not answer. */
export async function health(cfg: ClusterConfig, c: Component, timeoutMs = 1500): Promise<Health | null> {
  const q = new Queue(queueName(c, 'ctl'), { connection: { url: cfg.redisUrl }, prefix: cfg.prefix });
  try {
    if ((await q.getWorkersCount()) === 0) return null;
  } finally {
    await q.close();
  }
  const client = new BullMqClient({ url: cfg.redisUrl, prefix: cfg.prefix, queue: queueName(c, 'ctl'), service: c, timeoutMs });
  try {
    return await firstValueFrom(client.send<Health>('health', {}));
  } catch {
    return null;
  } finally {
    await client.close();
  }
}

export async function clusterHealth(cfg: ClusterConfig): Promise<Record<Component, Health | null>> {
  const hs = await Promise.all(COMPONENTS.map((c) => health(cfg, c)));
  return Object.fromEntries(COMPONENTS.map((c, i) => [c, hs[i]])) as Record<Component, Health | null>;
}

export interface StartedService {
  component: Component;
  pid: number;
  child: ChildProcess;
  logFile: string;
}

/** Starts services as separate Node processes; their output goes to `<logDir>/<service>.log`; `env` adds to this process's (e.g. VSVA_LOCK_MS). */
export function spawnServices(cfg: ClusterConfig, components: readonly Component[], opts: { logDir: string; detached?: boolean; env?: NodeJS.ProcessEnv }): StartedService[] {
  mkdirSync(opts.logDir, { recursive: true });
  const missing = components.map(serviceEntry).filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`${missing[0]} is missing: run 'npm run build' first`);
  return components.map((component) => {
    const logFile = join(opts.logDir, `${component}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [serviceEntry(component)], {
      env: { ...process.env, ...opts.env, VSVA_REDIS_URL: cfg.redisUrl, VSVA_PREFIX: cfg.prefix },
      stdio: ['ignore', fd, fd],
      detached: opts.detached ?? false,
    });
    if (opts.detached) child.unref();
    return { component, pid: child.pid!, child, logFile };
  });
}

/** Waits until every named service answers health, or throws naming the ones that did not. */
export async function waitHealthy(cfg: ClusterConfig, components: readonly Component[], timeoutMs = 20_000, started: StartedService[] = []): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing = [...components];
  while (missing.length) {
    const dead = started.filter((s) => s.child.exitCode !== null && missing.includes(s.component));
    if (dead.length) throw new Error(`service(s) exited at start: ${dead.map((d) => `${d.component} (exit ${d.child.exitCode}, see ${d.logFile})`).join(', ')}`);
    const hs = await Promise.all(missing.map((c) => health(cfg, c, 1000)));
    missing = missing.filter((_, i) => !hs[i]);
    if (!missing.length) return;
    if (Date.now() > deadline) throw new Error(`service(s) not healthy after ${timeoutMs} ms: ${missing.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
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
