import 'reflect-metadata';
import type { OnApplicationShutdown, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Component } from '../../contracts/src/index.js';
import { NestPinoLogger, redactUrl, setupServiceLogging } from '../../logging/src/index.js';
import { RedisRunLog, RedisSnapshotStore } from '../../event-log/src/index.js';
import { BullMqServer, queueName, serviceQueues } from '../../transport/src/index.js';
import { ComponentHost } from '../../runtime/src/index.js';
import { ConfigError, loadConfig, type Config } from '../../config/src/index.js';
import { serviceClusterConfig } from './config.js';
import { recoveryConfigOf, workerOptionsOf } from './recovery-config.js';
import { requeueOrphans } from './requeue-orphans.js';
import { ServiceModule } from './service-module.js';
import { exitWithParent, holdServiceLease } from './service-lease.js';

/** A service whose environment holds a bad value exits with this (EX_CONFIG), before anything connects. */
export const EXIT_BAD_CONFIG = 78;

/** The environment, once; a bad value: one line in the service's log naming it, and EXIT_BAD_CONFIG. */
function configOrExit(component: Component): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${component}: ${e.message}\n`);
    process.exit(EXIT_BAD_CONFIG);
  }
}

/**
 * Starts one service as its own process: a Nest microservice on the BullMQ transport, listening on
 * its data queue (concurrency 1, the recorded order) and its control queue. After a crash, the jobs
 * the dead process held come back first (requeueOrphans), and its runs are rebuilt from the log.
 */
export async function bootstrapService(component: Component, controllers: Type[], extra: Type[] = []): Promise<void> {
  const config = configOrExit(component);
  const cfg = serviceClusterConfig(config);
  const rc = recoveryConfigOf(config);
  const log = RedisRunLog.fromUrl(cfg.redisUrl, { prefix: cfg.prefix });
  const logger = setupServiceLogging(component);
  // one consumer per queue: the lease first, then the queue (requeueOrphans relies on it)
  let statsOf: () => Record<string, number> = () => ({});
  const lease = await holdServiceLease(component, cfg, config.leaseMs, logger, () => statsOf());
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
  exitWithParent(() => app.close(), config.exitWithParent);
  await app.listen();
  // in the log, not on stdout: nothing reads it there (startCluster waits on health), and a JSON log stays JSON
  logger.log(`ready ${component} ${process.pid} (redis ${redactUrl(cfg.redisUrl)}, prefix ${cfg.prefix})`);
}
