import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redactText, redactUrl } from './redact.js';

export interface PrivateRedis {
  url: string;
  port: number;
  /** the data folder (append-only file lives here) */
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** data folder; a fresh temporary one when absent */
  dir?: string;
  /** port; a free one when absent */
  port?: number;
  /** append-only file, fsync every write (DESIGN.md: nothing acknowledged is lost on restart) */
  appendonly?: boolean;
  /** keep running after this process exits (for `vsva-sim up`) */
  detached?: boolean;
  /** `--requirepass`: clients must authenticate; the URL then carries it (`redis://:pw@127.0.0.1:port`) */
  password?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Waits until PING answers, or throws after `ms`. */
export async function waitForRedis(url: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch (e) {
      last = e;
      r.disconnect();
      await new Promise((res) => setTimeout(res, 20));
    }
  }
  throw new Error(`Redis at ${redactUrl(url)} did not answer PING within ${ms} ms: ${redactText(String(last))}`);
}

/** Starts `redis-server` from PATH on 127.0.0.1 with its own data folder. */
export async function startPrivateRedis(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'vsva-redis-'));
  mkdirSync(dir, { recursive: true });
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', opts.appendonly === false ? 'no' : 'yes', '--appendfsync', 'always',
    '--maxmemory-policy', 'noeviction', '--logfile', join(dir, 'redis.log'),
    ...(opts.password ? ['--requirepass', opts.password] : []),
  ];
  let child: ChildProcess;
  try {
    child = spawn('redis-server', args, { stdio: 'ignore', detached: opts.detached ?? false });
  } catch (e) {
    throw new Error(`could not start redis-server: ${String(e)}`);
  }
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e) => reject(new Error(`could not start redis-server (is it on PATH?): ${e.message}`))),
  );
  if (opts.detached) child.unref();
  const url = opts.password ? `redis://:${encodeURIComponent(opts.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`;
  await Promise.race([waitForRedis(url), spawnError]);
  return {
    url,
    port,
    dir,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((res) => child.once('exit', () => res()));
      child.kill('SIGTERM');
      // bounded wait; the timer must not keep the process alive once redis has exited
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((res) => (timer = setTimeout(res, 3000)))]);
      clearTimeout(timer);
    },
  };
}
