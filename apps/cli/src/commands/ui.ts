import { join } from 'node:path';
import { knownClusters, stateDir } from '../cluster-state.js';
import { infra, usage } from '../errors.js';
import { onCleanup } from '../process-guard.js';
import { requireRedis } from '../redis-probe.js';

export interface UiCommandOptions {
  port: number;
  host: string;
  runs: string[];
  /** false: --no-redis, exported files only */
  redis: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Serves the dashboard until a signal stops it. Runs come from the cluster's Redis (the one `up`
 * started, else REDIS_URL; unreachable is exit 3, `--no-redis` reads files only) and from exported
 * files: the folder every cluster run is kept in, and each --runs folder or file.
 */
export async function uiCommand(o: UiCommandOptions): Promise<number> {
  if (o.port > 65535) throw usage(`--port ${o.port}: a port is 0-65535`);
  const cluster = o.redis ? knownClusters()[0] : undefined;
  if (cluster) {
    await requireRedis(cluster.redisUrl, 3000).catch((e: Error) => {
      throw infra(`${e.message} (named by ${cluster.from}); start it, or pass --no-redis to read exported files only`);
    });
  }
  const { startUi, PortInUseError } = await import('../../../ui/src/ui-server.js');
  const runs = [join(stateDir(), 'runs'), ...o.runs];
  const ui = await startUi({ host: o.host, port: o.port, runs, ...(cluster ? { redis: { url: cluster.redisUrl, prefix: cluster.prefix } } : {}) }).catch((e: Error) => {
    throw e instanceof PortInUseError ? infra(e.message) : e;
  });
  onCleanup('the dashboard', () => ui.close());
  if (!LOOPBACK.has(o.host)) process.stderr.write(`vsva-sim ui: listening on ${o.host}, not only on this machine: whoever reaches it reads every run and the queues\n`);
  process.stderr.write(`vsva-sim ui: reading runs from ${cluster ? `the Redis of ${cluster.from}` : 'exported files only'} and ${runs.join(', ')}\n`);
  process.stdout.write(`${ui.url}\n`);
  // served until SIGINT/SIGTERM (process-guard closes it)
  await new Promise<never>(() => {});
  return 0;
}
