import type { TestProject } from 'vitest/node';
import { provideTestRedis, type TestRedis } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let redis: TestRedis | undefined;

/** One Redis for the whole run; each suite uses its own key prefix and cleans it up. */
export async function setup(project: TestProject): Promise<void> {
  redis = await provideTestRedis();
  process.stderr.write(`[tests] Redis from ${redis.source}: ${redis.url}\n`);
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}
