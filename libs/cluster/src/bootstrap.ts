import 'reflect-metadata';
import { Logger, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Component } from '../../contracts/src/index.js';
import { RedisRunLog } from '../../event-log/src/index.js';
import { BullMqServer, serviceQueues } from '../../transport/src/index.js';
import { clusterConfigFromEnv } from './config.js';
import { ServiceModule } from './service-module.js';

/**
 * Starts one service as its own process: a Nest microservice on the BullMQ transport, listening on
 * its data queue (concurrency 1, the recorded order) and its control queue.
 */
export async function bootstrapService(component: Component, controllers: Type[], extra: Type[] = []): Promise<void> {
  const cfg = clusterConfigFromEnv();
  const log = RedisRunLog.fromUrl(cfg.redisUrl, { prefix: cfg.prefix });
  const logger = new Logger(component);
  const strategy = new BullMqServer({
    url: cfg.redisUrl,
    prefix: cfg.prefix,
    queues: serviceQueues(component),
    // a job that is not a packet at all is kept with its reason, never dropped
    onMalformed: (reason, raw) => log.deadLetter('_transport', `${component}: ${reason}`, raw),
  });
  const app = await NestFactory.createMicroservice(ServiceModule.for(component, cfg, log, controllers, extra), {
    strategy,
    logger: process.env.VSVA_LOG_LEVEL === 'debug' ? ['error', 'warn', 'log', 'debug'] : ['error', 'warn'],
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen();
  logger.warn(`ready (pid ${process.pid}, redis ${cfg.redisUrl}, prefix ${cfg.prefix})`);
  process.stdout.write(`ready ${component} ${process.pid}\n`);
}
