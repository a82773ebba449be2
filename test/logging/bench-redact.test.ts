import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineInfo, openBenchRedis, type BenchRedis } from '../../libs/bench/src/index.js';
import { startPrivateRedis, type PrivateRedis } from '../../libs/redis/src/index.js';

// the bench's result object is printed (--json) and written to files (--out): no password in it
const PASSWORD = 'bench-Secret-91b0';
let redis: PrivateRedis;
let bench: BenchRedis;

beforeAll(async () => {
  redis = await startPrivateRedis({ appendonly: false, password: PASSWORD });
  bench = await openBenchRedis({ REDIS_URL: redis.url }, `vsvatest-bench-redact-${process.pid}`);
});
afterAll(async () => {
  await bench?.close();
  await redis?.stop();
});

describe('bench machine info on a Redis with a password', () => {
  it('names Redis by its redacted URL', async () => {
    const m = await machineInfo(bench);
    expect(m.redis.url).toBe(`redis://:***@127.0.0.1:${redis.port}`);
    expect(JSON.stringify(m)).not.toContain(PASSWORD);
  });

  it('an unreachable Redis: the error names it without the password', async () => {
    const err = await openBenchRedis({ REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:1` }).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/redis:\/\/:\*\*\*@127\.0\.0\.1:1/);
    expect(err?.message).not.toContain(PASSWORD);
  });
});
