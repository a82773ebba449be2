// Who runs an exploration's batches besides this process (pool.ts): child processes on this machine,
// or explore-workers on any machine over Redis.
export * from './child-workers.js';
export * from './process-pool.js';
export * from './redis-queue.js';
export * from './redis-pool.js';
export * from './redis-worker.js';
