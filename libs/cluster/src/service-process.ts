import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Component } from '../../contracts/src/index.js';
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

export interface StartedService {
  component: Component;
  pid: number;
  child: ChildProcess;
  logFile: string;
}

/**
 * Starts services as separate Node processes, without waiting for them (startCluster waits); their
 * output goes to `<logDir>/<service>.log` (or `<logName>.log`: a second replica's); `env` adds to this process's (e.g. VSVA_LOCK_MS). Unless
 * detached, a service stops when this process is gone.
 */
export function spawnServices(cfg: ClusterConfig, components: readonly Component[], opts: { logDir: string; detached?: boolean; env?: NodeJS.ProcessEnv; logName?: string }): StartedService[] {
  mkdirSync(opts.logDir, { recursive: true });
  const missing = components.map(serviceEntry).filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`${missing[0]} is missing: run 'npm run build' first`);
  return components.map((component) => {
    const logFile = join(opts.logDir, `${opts.logName ?? component}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [serviceEntry(component)], {
      // the child's environment: the variables of libs/config that say where it serves, whatever this process inherited
      env: { ...process.env, ...opts.env, VSVA_REDIS_URL: cfg.redisUrl, VSVA_PREFIX: cfg.prefix, VSVA_EXIT_WITH_PARENT: opts.detached ? '0' : '1' },
      stdio: ['ignore', fd, fd],
      detached: opts.detached ?? false,
    });
    if (opts.detached) child.unref();
    return { component, pid: child.pid!, child, logFile };
  });
}

/** After SIGKILL, how long to wait for the exit before giving up on a process (one stuck in the kernel). */
const KILL_WAIT_MS = 2000;

/** SIGTERM (services drain in-flight work), then SIGKILL after `graceMs`; returns within about graceMs + 2 s. */
export async function stopServices(services: readonly StartedService[], graceMs = 5000): Promise<void> {
  await Promise.all(services.map(async (s) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return;
    const gone = new Promise<true>((r) => s.child.once('exit', () => r(true)));
    s.child.kill('SIGTERM');
    if (await within(gone, graceMs)) return;
    s.child.kill('SIGKILL');
    await within(gone, KILL_WAIT_MS);
  }));
}

async function within(p: Promise<true>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const r = await Promise.race([p, late]);
  clearTimeout(timer);
  return r;
}
