import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Component } from '../../contracts/src/index.js';
import { NestPinoLogger, redactUrl, setupServiceLogging } from '../../logging/src/index.js';
import { RedisRunLog, RedisSnapshotStore } from '../../event-log/src/index.js';
import { BullMqServer, queueName, serviceQueues } from '../../transport/src/index.js';
import { ComponentHost } from './component-host.js';
import { clusterConfigFromEnv } from './config.js';
import { recoveryConfigFromEnv, workerOptionsOf } from './recovery-config.js';
import { requeueOrphans } from './requeue-orphans.js';
import { ServiceModule } from './service-module.js';

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
  const hostOptions = { snapshots: new RedisSnapshotStore(log.redis, cfg.prefix), snapshotEvery: rc.snapshotEvery };
  const app = await NestFactory.createMicroservice(ServiceModule.for(component, cfg, log, controllers, extra, hostOptions), {
    strategy,
    // Nest's own Logger (every `new Logger(ctx)` of the process) logs through pino too: stderr, redacted
    logger: new NestPinoLogger(),
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  app.get(ComponentHost).on('warning', (m: string) => logger.warn(m));
  await app.listen();
  // in the log, not on stdout: nothing reads it there (the launcher waits on health), and a JSON log stays JSON
  logger.log(`ready ${component} ${process.pid} (redis ${redactUrl(cfg.redisUrl)}, prefix ${cfg.prefix})`);
}
