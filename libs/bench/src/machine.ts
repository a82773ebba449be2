import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { redactUrl } from '../../redis/src/index.js';
import { redisConfig, redisInfo, type BenchRedis } from './bench-redis.js';
import type { Machine } from './types.js';

/** The installed version of a package: node_modules/<name>/package.json in the nearest folder above that has it. */
function pkgVersion(name: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file)) {
      try {
        return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
      } catch {
        return 'unknown';
      }
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/** The machine, and the bench's Redis when one was opened. */
export async function machineInfo(redis: BenchRedis): Promise<Machine & { redis: BenchRedisInfo }>;
export async function machineInfo(): Promise<Machine>;
export async function machineInfo(redis?: BenchRedis): Promise<Machine> {
  const cs = cpus();
  return {
    cores: cs.length,
    cpuModel: cs[0]?.model.trim() ?? 'unknown',
    loadAvg: loadavg().map((x) => Number(x.toFixed(2))),
    totalMemMB: Math.round(totalmem() / 2 ** 20),
    os: `${type()} ${release()}`,
    node: process.version,
    redis: redis ? await redisOf(redis) : null,
    packages: Object.fromEntries(['bullmq', 'ioredis', '@nestjs/core', '@nestjs/microservices'].map((p) => [p, pkgVersion(p)])),
  };
}

type BenchRedisInfo = NonNullable<Machine['redis']>;

async function redisOf(redis: BenchRedis): Promise<BenchRedisInfo> {
  const info = await redisInfo(redis.admin, 'server');
  const mem = await redisInfo(redis.admin, 'memory');
  return {
    version: info.redis_version ?? 'unknown',
    source: redis.source,
    // the result is printed and written to files: never the password
    url: redactUrl(redis.url),
    appendonly: await redisConfig(redis.admin, 'appendonly'),
    appendfsync: await redisConfig(redis.admin, 'appendfsync'),
    mallocator: mem.mem_allocator ?? 'unknown',
  };
}
