import 'reflect-metadata';
import type { OnApplicationShutdown, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Component } from '../../contracts/src/index.js';
import { NestPinoLogger, redactUrl, setupServiceLogging } from '../../logging/src/index.js';
import { RedisRunLog, RedisSnapshotStore } from '../../event-log/src/index.js';
import { BullMqServer, queueName, serviceQueues } from '../../transport/src/index.js';
import { ComponentHost } from '../../runtime/src/index.js';
import { clusterConfigFromEnv } from './config.js';
import { recoveryConfigFromEnv, workerOptionsOf } from './recovery-config.js';
import { requeueOrphans } from './requeue-orphans.js';
import { ServiceModule } from './service-module.js';
import { exitWithParent, holdServiceLease } from './service-lease.js';

/**
 * Starts one service as its own process: a Nest microservice on the BullMQ transport, listening on
 * its data queue (concurrency 1, the recorded order) and its control queue. After a crash, the jobs
 * the dead process held come back first (requeueOrphans), and its runs are rebuilt from the log.
 */
export async function bootstrapService(component: Component, controllers: Type[], extra: Type[] = []): Promise<void> {
  const cfg = clusterConfigFromEnv();
  const rc = recoveryConfigFromEnv();
  const log = RedisRunLog.fromUrl(cfg.redisUrl, { prefix: cfg.prefix });
  const logger = setupServiceLogging(component);
  // one consumer per queue: the lease first, then the queue (requeueOrphans relies on it)
  let statsOf: () => Record<string, number> = () => ({});
  const lease = await holdServiceLease(component, cfg, logger, () => statsOf());
  class ReleaseLease implements OnApplicationShutdown {
    async onApplicationShutdown() {
      await lease.release();
    }
  }
  extra = [...extra, ReleaseLease];
  const requeued = await requeueOrphans(cfg, queueName(component), rc);
  if (requeued) logger.warn(`${requeued} job(s) of a previous process back on ${queueName(component)}`);
  const strategy = new BullMqServer({
    url: cfg.redisUrl,
    prefix: cfg.prefix,
    queues: serviceQueues(component),
    // a job that is not a packet at all is kept with its reason, never dropped
    onMalformed: (reason, raw) => log.deadLetter('_transport', `${component}: ${reason}`, raw),
    workerOptions: workerOptionsOf(rc),
  });
  const hostOptions = {
    snapshots: new RedisSnapshotStore(log.redis, cfg.prefix), snapshotEvery: rc.snapshotEvery,
    // a paused process whose lease lapsed must not consume: another may hold the queue now
    fence: () => (lease.held() ? undefined : 'this process no longer holds its lease'),
  };
  const app = await NestFactory.createMicroservice(ServiceModule.for(component, cfg, log, controllers, extra, hostOptions), {
    strategy,
    // Nest's own Logger (every `new Logger(ctx)` of the process) logs through pino too: stderr, redacted
    logger: new NestPinoLogger(),
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const host = app.get(ComponentHost);
  host.on('warning', (m: string) => logger.warn(m));
  statsOf = () => ({ ...host.stats, runs: host.activeRuns });
  exitWithParent(() => app.close());
  await app.listen();
  // in the log, not on stdout: nothing reads it there (the launcher waits on health), and a JSON log stays JSON
  logger.log(`ready ${component} ${process.pid} (redis ${redactUrl(cfg.redisUrl)}, prefix ${cfg.prefix})`);
}
