/** Where a service finds Redis and which key/queue prefix it uses; from the environment. */
export interface ClusterConfig {
  redisUrl: string;
  /** BullMQ prefix and run-log key prefix: tests and side-by-side clusters use their own */
  prefix: string;
}

export function clusterConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  return {
    redisUrl: env.VSVA_REDIS_URL ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: env.VSVA_PREFIX ?? 'vsva',
  };
}
