import { infra } from './errors.js';

/**
 * The CLI's one check that a Redis is usable before it relies on it: connect, PING and INFO within
 * `deadlineMs`; otherwise exit 3 with the cause named (refused, not found, password, TLS, timeout,
 * out of memory). Reads only.
 */
export async function requireRedis(url: string, deadlineMs = 5000): Promise<void> {
  const { probeRedis, RedisUnavailableError } = await import('../../../libs/redis/src/index.js');
  await probeRedis(url, deadlineMs).catch((e: Error) => {
    throw e instanceof RedisUnavailableError ? infra(e.message) : e;
  });
}
