import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, statSync } from 'node:fs';
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
  /** what redis-check-aof cut from a torn append-only file before this start, if it had to */
  repaired?: string;
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** data folder; a fresh temporary one when absent */
  dir?: string;
  /** port; a free one when absent */
  port?: number;
  /** append-only file (DESIGN.md: nothing acknowledged is lost on restart) */
  appendonly?: boolean;
  /** when the append-only file is fsynced: every write (default), or once a second (VSVA_REDIS_FSYNC) */
  appendfsync?: 'always' | 'everysec';
  /** keep running after this process exits (for `vsva-sim up`) */
  detached?: boolean;
  /** `--requirepass`: clients must authenticate; the URL then carries it (`redis://:pw@127.0.0.1:port`) */
  password?: string;
  /** more redis-server arguments (a cluster node's, private-cluster.ts) */
  extraArgs?: string[];
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

/**
 * The append-only file ends in a torn write (redis-server SIGKILLed mid-write). Redis 7.0's own
 * `aof-load-truncated yes` cuts it after the last whole command, which may leave a MULTI without its
 * EXEC: the next transaction appended after the restart then joins the torn one on the following load,
 * and an unacknowledged script's first half comes back (found by the chaos soak: a log append half
 * applied). `redis-check-aof --fix` cuts before the MULTI instead.
 */
class TornAof extends Error {}

const TORN = /Unexpected end of file reading the append only file|Bad file format reading the append only file/;

/** Starts `redis-server` from PATH on 127.0.0.1 with its own data folder. */
export async function startPrivateRedis(opts: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'vsva-redis-'));
  mkdirSync(dir, { recursive: true });
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', opts.appendonly === false ? 'no' : 'yes', '--appendfsync', opts.appendfsync ?? 'always',
    // a torn append-only file stops the start, and is repaired below before a second one
    '--aof-load-truncated', 'no',
    '--maxmemory-policy', 'noeviction', '--logfile', join(dir, 'redis.log'),
    ...(opts.password ? ['--requirepass', opts.password] : []),
    ...(opts.extraArgs ?? []),
  ];
  try {
    return await launch(args, port, dir, opts);
  } catch (e) {
    if (!(e instanceof TornAof)) throw e;
    const repaired = repairAof(dir);
    return { ...(await launch(args, port, dir, opts)), repaired };
  }
}

/** `redis-check-aof --fix` on the folder's manifest: what it says it cut. */
function repairAof(dir: string): string {
  const manifest = join(dir, 'appendonlydir', 'appendonly.aof.manifest');
  const r = spawnSync('redis-check-aof', ['--fix', manifest], { input: 'y\n', encoding: 'utf8', timeout: 120_000 });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.error || r.status !== 0) throw new Error(`the append-only file in ${dir} is torn and redis-check-aof --fix failed (${r.error?.message ?? `exit ${r.status}`}): ${said.split('\n').slice(-2).join(' ')}`);
  return said.split('\n').find((l) => /will shrink|truncated/i.test(l)) ?? 'repaired by redis-check-aof --fix';
}

async function launch(args: string[], port: number, dir: string, opts: PrivateRedisOptions): Promise<PrivateRedis> {
  const logFile = join(dir, 'redis.log');
  const logFrom = existsSync(logFile) ? statSync(logFile).size : 0;
  let child: ChildProcess;
  try {
    child = spawn('redis-server', args, { stdio: 'ignore', detached: opts.detached ?? false });
  } catch (e) {
    throw new Error(`could not start redis-server: ${String(e)}`);
  }
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e) => reject(new Error(`could not start redis-server (is it on PATH?): ${e.message}`))),
  );
  // an exit before it answers: a torn append-only file is repairable, anything else is said as the log says it
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => {
      const said = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(logFrom) : '';
      if (TORN.test(said)) reject(new TornAof(`torn append-only file in ${dir}`));
      else reject(new Error(`redis-server exited (${code}) before it answered: ${redactText(said.trim().split('\n').slice(-2).join(' '))}`));
    }),
  );
  exited.catch(() => {});
  const url = opts.password ? `redis://:${encodeURIComponent(opts.password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`;
  await Promise.race([waitForRedis(url), spawnError, exited]);
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
