import { LOCAL_REDIS_URL, loadConfig, type Config } from '../../config/src/index.js';

/** Where a cluster's Redis is and which key/queue prefix (namespace) it uses. */
export interface ClusterConfig {
  redisUrl: string;
  /** BullMQ prefix and run-log key prefix: tests and side-by-side clusters use their own */
  prefix: string;
  /** data-queue partitions per service: the namespace's layout once a service agreed to it (partitions/layout.ts) */
  partitions?: number;
}

/** A service's: the configured Redis (libs/config), else the local one (a service started by hand). */
export function serviceClusterConfig(c: Config = loadConfig()): ClusterConfig {
  return { redisUrl: c.redisUrl ?? LOCAL_REDIS_URL, prefix: c.prefix };
}
