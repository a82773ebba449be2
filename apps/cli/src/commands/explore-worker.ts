import { isClusterUrl, loadConfig } from '../../../../libs/config/src/index.js';
import { ExploreWorkerError, startExploreWorker } from '../../../../libs/explore/src/index.js';
import { configureLogging, getLogger } from '../../../../libs/logging/src/index.js';
import { RedisUnavailableError } from '../../../../libs/redis/src/index.js';
import { infra, usage } from '../errors.js';

export interface ExploreWorkerFlags {
  redis?: string;
  concurrency: number;
  prefix: string;
}

/** Bound on stopping: runs in progress finish within it, else the process exits anyway (their jobs go back to the queue when their lock lapses). */
const STOP_MS = 15_000;

/** `vsva-sim explore-worker`: serves explore runs from Redis until SIGINT or SIGTERM; then 0. */
export async function exploreWorkerCommand(o: ExploreWorkerFlags): Promise<number> {
  const url = o.redis ?? loadConfig().redisUrl;
  if (!url) throw usage('explore-worker needs a Redis: --redis URL, or VSVA_REDIS_URL / REDIS_URL');
  if (isClusterUrl(url)) throw usage('explore-worker: the explorations\' queue lives on one Redis server, not a Redis Cluster: give --redis a redis:// URL');
  if (o.concurrency < 1) throw usage('--concurrency must be at least 1');
  if (!o.prefix || o.prefix.includes(':')) throw usage(`--prefix '${o.prefix}': a non-empty name without ':'`);
  configureLogging({ service: 'explore-worker' });
  const log = getLogger('explore-worker');
  const worker = await startExploreWorker(url, { concurrency: o.concurrency, prefix: o.prefix, log }).catch((e: unknown) => {
    throw e instanceof RedisUnavailableError || e instanceof ExploreWorkerError ? infra((e as Error).message) : e;
  });
  const sig = await new Promise<'SIGINT' | 'SIGTERM'>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info(`${sig}: finishing the runs in progress, then stopping`);
  // a second signal, or a stop that hangs: out at once
  const codes = { SIGINT: 130, SIGTERM: 143 } as const;
  process.once(sig, () => process.exit(codes[sig]));
  const hard = setTimeout(() => {
    log.warn(`stopping took longer than ${STOP_MS} ms: exiting`);
    process.exit(codes[sig]);
  }, STOP_MS);
  hard.unref();
  await worker.close();
  clearTimeout(hard);
  log.info('stopped');
  return 0;
}
