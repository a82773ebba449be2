import { existsSync } from 'node:fs';
import { loadConfig } from '../../libs/config/src/index.js';
import { redactUrl, startPrivateRedis, waitForRedis } from '../../libs/redis/src/index.js';

export interface TestRedis {
  url: string;
  /** how it was obtained, for the failure message */
  source: 'REDIS_URL' | 'redis-server' | 'testcontainers';
  stop(): Promise<void>;
}

/**
 * A Redis for the tests: the configured one (libs/config: VSVA_REDIS_URL, else REDIS_URL) if set, else
 * a private redis-server on a free port, else a container through testcontainers. Throws (never skips)
 * when none works.
 */
export async function provideTestRedis(): Promise<TestRedis> {
  const errors: string[] = [];
  const url = loadConfig().redisUrl;
  if (url) {
    try {
      await waitForRedis(url, 3000);
      return { url, source: 'REDIS_URL', stop: async () => {} };
    } catch (e) {
      errors.push(`${redactUrl(url)} (configured): ${String(e)}`);
    }
  }
  try {
    const r = await startPrivateRedis({ appendonly: false });
    return { url: r.url, source: 'redis-server', stop: () => r.stop() };
  } catch (e) {
    errors.push(`private redis-server: ${String(e)}`);
  }
  // testcontainers throws at once without a Docker engine; probe the socket first (its import is slow).
  if (existsSync('/var/run/docker.sock') || process.env.DOCKER_HOST) {
    try {
      const { RedisContainer } = await import('@testcontainers/redis');
      const c = await new RedisContainer('redis:7').start();
      return { url: c.getConnectionUrl(), source: 'testcontainers', stop: async () => void (await c.stop()) };
    } catch (e) {
      errors.push(`testcontainers: ${String(e)}`);
    }
  } else {
    errors.push('testcontainers: no Docker socket (/var/run/docker.sock) and no DOCKER_HOST');
  }
  throw new Error(
    `No Redis for the tests. Set REDIS_URL, put redis-server on PATH, or run a Docker engine.\n  ${errors.join('\n  ')}`,
  );
}

/** A key prefix unique to one test file, so suites sharing a Redis never collide. */
export function testPrefix(name: string): string {
  return `vsvatest-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
