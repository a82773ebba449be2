import 'reflect-metadata';
import type { OnApplicationShutdown, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Component } from '../../contracts/src/index.js';
import { NestPinoLogger, redactUrl, setupServiceLogging } from '../../logging/src/index.js';
import { RedisRunLog, RedisSnapshotStore } from '../../event-log/src/index.js';
import { BullMqServer, CHANNEL_CONCURRENCY, partitionOf, queueName } from '../../transport/src/index.js';
import { ComponentHost } from '../../runtime/src/index.js';
import { ConfigError, loadConfig, type Config } from '../../config/src/index.js';
import { serviceClusterConfig } from './config.js';
import { recoveryConfigOf, workerOptionsOf } from './recovery-config.js';
import { requeueOrphans } from './requeue-orphans.js';
import { ServiceModule } from './service-module.js';
import { exitWithParent, holdReplicaSlot } from './service-lease.js';
import { agreeLayout, LayoutMismatchError, PartitionOwner } from './partitions/index.js';

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
 * Starts one service as its own process: a Nest microservice on the BullMQ transport, listening on its
 * control queue and on the data-queue partitions it owns (each at concurrency 1, the recorded order).
 * Several processes of one service are replicas: each holds a replica slot, and the partitions are
 * shared out among the live slots (partitions/). A partition taken up brings back first the jobs a
 * dead owner held (requeueOrphans); its runs are rebuilt from the log.
 */
export async function bootstrapService(component: Component, controllers: Type[], extra: Type[] = []): Promise<void> {
  const config = configOrExit(component);
  const cfg = serviceClusterConfig(config);
  const rc = recoveryConfigOf(config);
  const log = RedisRunLog.fromUrl(cfg.redisUrl, { prefix: cfg.prefix });
  const logger = setupServiceLogging(component);
  const { partitions } = await agreeLayout(log.redis, cfg.prefix, config.partitions).catch((e: Error) => {
    if (!(e instanceof LayoutMismatchError)) throw e;
    logger.error(e.message);
    process.exit(EXIT_BAD_CONFIG);
  });
  let statsOf: () => Record<string, number> = () => ({});
  const { lease, slot } = await holdReplicaSlot(component, cfg, config.leaseMs, logger, () => statsOf());
  const strategy = new BullMqServer({
    url: cfg.redisUrl,
    prefix: cfg.prefix,
    // the data partitions come and go with their leases (owner below)
    queues: [{ name: queueName(component, 'ctl'), concurrency: CHANNEL_CONCURRENCY.ctl }],
    // a job that is not a packet at all is kept with its reason, never dropped
    onMalformed: (reason, raw) => log.deadLetter('_transport', `${component}: ${reason}`, raw),
    workerOptions: workerOptionsOf(rc),
  });
  let host: ComponentHost | undefined;
  const owner = new PartitionOwner({
    redis: log.redis, prefix: cfg.prefix, component, partitions, slot, ttlMs: config.leaseMs,
    onAcquire: async (p) => {
      const queue = queueName(component, 'data', p);
      // only a dead (or paused) owner leaves jobs active: a handover waits for its jobs in flight
      const requeued = await requeueOrphans(cfg, queue, rc);
      if (requeued) logger.warn(`${requeued} job(s) of a previous owner back on ${queue}`);
      await strategy.addQueue({ name: queue, concurrency: CHANNEL_CONCURRENCY.data });
    },
    onRelease: async (p, how) => {
      await strategy.removeQueue(queueName(component, 'data', p), how === 'lost');
      // whoever consumes the partition next appends inputs this memory would not know of
      host?.forgetWhere((runId) => partitionOf(runId, partitions) === p);
    },
    onEvent: (m) => logger.log(m),
  });
  class ReleaseLeases implements OnApplicationShutdown {
    async onApplicationShutdown() {
      await owner.stop();
      await lease.release();
    }
  }
  extra = [...extra, ReleaseLeases];
  const hostOptions = {
    snapshots: new RedisSnapshotStore(log.redis, cfg.prefix), snapshotEvery: rc.snapshotEvery,
    // a paused process whose lease lapsed must not consume: another may hold the partition now
    fence: (runId: unknown) => {
      if (!lease.held()) return 'this process no longer holds its replica slot';
      if (typeof runId !== 'string') return undefined;
      const p = partitionOf(runId, partitions);
      return owner.owns(p) ? undefined : `this process does not hold partition ${p}`;
    },
  };
  const app = await NestFactory.createMicroservice(ServiceModule.for(component, { ...cfg, partitions }, log, controllers, extra, hostOptions), {
    strategy,
    // Nest's own Logger (every `new Logger(ctx)` of the process) logs through pino too: stderr, redacted
    logger: new NestPinoLogger(),
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const h = app.get(ComponentHost);
  host = h;
  h.on('warning', (m: string) => logger.warn(m));
  statsOf = () => ({ ...h.stats, runs: h.activeRuns, partitions: owner.owned().length });
  exitWithParent(() => app.close(), config.exitWithParent);
  await app.listen();
  await owner.start();
  // in the log, not on stdout: nothing reads it there (startCluster waits on health), and a JSON log stays JSON
  logger.log(`ready ${component} ${process.pid} (redis ${redactUrl(cfg.redisUrl)}, prefix ${cfg.prefix}, replica slot ${slot}, partitions ${owner.owned().join(',') || 'none yet'} of ${partitions})`);
}
