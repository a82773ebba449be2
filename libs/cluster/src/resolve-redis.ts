import { loadConfig, type Config } from '../../config/src/index.js';
import { probeRedis, startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from '../../redis/src/index.js';

export interface ResolvedRedis {
  url: string;
  source: 'REDIS_URL' | 'private redis-server';
  /** set when this process started it: stop it when done */
  private?: PrivateRedis;
}

/**
 * The configured Redis (libs/config: VSVA_REDIS_URL, else REDIS_URL), which must answer within the
 * deadline (the error names the cause); else a private redis-server with its append-only file in `dataDir`.
 */
export async function resolveRedis(dataDir: string, url: string | undefined = loadConfig().redisUrl): Promise<ResolvedRedis> {
  if (url) {
    await probeRedis(url, 5000);
    return { url, source: 'REDIS_URL' };
  }
  const r = await startPrivateRedis({ dir: dataDir, ...productRedis() });
  return { url: r.url, source: 'private redis-server', private: r };
}

/** How the product starts a redis-server of its own: append-only, fsynced as VSVA_REDIS_FSYNC says. */
export function productRedis(c: Pick<Config, 'redisFsync'> = loadConfig()): Pick<PrivateRedisOptions, 'appendonly' | 'appendfsync'> {
  return { appendonly: true, appendfsync: c.redisFsync };
}
