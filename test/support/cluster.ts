import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { COMPONENTS } from '../../libs/contracts/src/index.js';
import { spawnServices, stopServices, waitHealthy, type ClusterConfig, type StartedService } from '../../libs/cluster/src/index.js';
import { testPrefix } from './redis.js';

export interface TestCluster {
  cfg: ClusterConfig;
  services: StartedService[];
  logDir: string;
  stop(): Promise<void>;
}

/** Deletes every key under a prefix (BullMQ queues and run logs alike). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** The five services as separate processes on the test Redis, under a prefix of their own. */
export async function startTestCluster(redisUrl: string, name: string): Promise<TestCluster> {
  const cfg = { redisUrl, prefix: testPrefix(name) };
  const logDir = mkdtempSync(join(tmpdir(), `vsva-${name}-logs-`));
  const services = spawnServices(cfg, COMPONENTS, { logDir });
  await waitHealthy(cfg, COMPONENTS, 45_000, services);
  return {
    cfg, services, logDir,
    async stop() {
      await stopServices(services);
      await deletePrefix(redisUrl, cfg.prefix);
    },
  };
}
