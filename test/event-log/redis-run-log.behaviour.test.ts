import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { RedisRunLog } from '../../libs/event-log/src/index.js';
import { testPrefix } from '../support/redis.js';
import { describeClosedDataPlane, describeRunLog, type Subject } from './run-log.behaviour.js';
import { deleteUnder, keysUnder } from './support.js';

// The shared run-log behaviour against Redis; memory-run-log.unit.test.ts runs it against MemoryRunLog.

function redisSubject(): Subject {
  const prefix = testPrefix('eventlog');
  let redis: Redis;
  let log: RedisRunLog;
  let freshN = 0;
  return {
    async setup() {
      redis = new Redis(inject('redisUrl'));
      log = new RedisRunLog(redis, { prefix });
    },
    async teardown() {
      await deleteUnder(redis, prefix);
      await redis.quit();
    },
    log: () => log,
    async peers(n) {
      const logs = Array.from({ length: n }, () => RedisRunLog.fromUrl(inject('redisUrl'), { prefix }));
      return { logs, close: async () => void (await Promise.all(logs.map((l) => l.close()))) };
    },
    fresh: () => new RedisRunLog(redis, { prefix: `${prefix}-fresh${++freshN}` }),
    leftovers: async (runId) => [
      ...(await keysUnder(redis, `${prefix}*{${runId}}*`)),
      ...((await redis.zscore(`${prefix}:runs`, runId)) === null ? [] : [`${prefix}:runs member ${runId}`]),
    ],
  };
}


describeRunLog('RedisRunLog', redisSubject);
describeClosedDataPlane('RedisRunLog', redisSubject);
