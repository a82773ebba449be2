import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../libs/contracts/src/index.js';
import { readPartitionOwners, readReplicas } from '../../libs/cluster/src/index.js';
import { connectRedis, mastersOf, startPrivateRedisCluster, type PrivateRedisCluster } from '../../libs/redis/src/index.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { runCli } from '../support/cli-process.js';

/**
 * Issue 14, point 2: the product on a real Redis Cluster (three masters on loopback, joined by
 * redis-cli --cluster create): every key the product writes carries a hash tag, so each script and
 * MULTI stays in one slot while queues and runs spread over the masters.
 */
let redisCluster: PrivateRedisCluster;
let cluster: TestCluster;

beforeAll(async () => {
  redisCluster = await startPrivateRedisCluster({ masters: 3 });
  cluster = await startTestCluster(redisCluster.url, 'rcluster', { replicas: 2, env: { VSVA_PARTITIONS: '4' } });
});

afterAll(async () => {
  await cluster?.stop();
  await redisCluster?.stop();
});

describe('on a Redis Cluster of three masters, two replicas of each service', () => {
  it('the corpus passes, and the namespace\'s keys are spread over every master', async () => {
    const env = { REDIS_URL: redisCluster.url, VSVA_PREFIX: cluster.cfg.prefix, VSVA_STATE_DIR: cluster.logDir };
    const r = await runCli(['corpus', '--engine', 'cluster', '--jobs', '4', '--json'], env, 300_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/using the running services/);
    expect(JSON.parse(r.stdout).ok).toBe(true);

    const redis = connectRedis(redisCluster.url);
    try {
      // every replica of every service holds its slot, and every partition has an owner
      const live = await readReplicas(redis, cluster.cfg.prefix, COMPONENTS);
      for (const c of COMPONENTS) {
        expect(live[c], c).toHaveLength(2);
        expect((await readPartitionOwners(redis, cluster.cfg.prefix, c, 4)).every((o) => o), c).toBe(true);
      }
      const perMaster: number[] = [];
      for (const node of mastersOf(redis)) {
        let n = 0;
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${cluster.cfg.prefix}:*`, 'COUNT', 1000);
          cursor = next;
          n += keys.length;
        } while (cursor !== '0');
        perMaster.push(n);
      }
      expect(perMaster).toHaveLength(3);
      for (const n of perMaster) expect(n).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});
