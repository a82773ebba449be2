import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Queue } from 'bullmq';
import type { Request, Response } from 'express';
import { COMPONENTS } from '../../../libs/contracts/src/index.js';
import { boundedRedisOptions, connectRedis } from '../../../libs/redis/src/index.js';
import { dataQueues, queueName } from '../../../libs/transport/src/index.js';
import { layoutPartitions } from '../../../libs/cluster/src/index.js';
import { loadConfig } from '../../../libs/config/src/index.js';
import { notFoundPage } from './pages/layout.js';

export const QUEUES_PATH = '/queues';

/**
 * bull-board (the BullMQ dashboard its users already know) on the cluster's queues: each service's data
 * and control queue under the cluster's prefix. Without Redis, /queues says why there is nothing to show.
 */
export async function mountQueues(app: NestExpressApplication, redis?: { url: string; prefix: string }): Promise<{ close(): Promise<void> }> {
  if (!redis) {
    app.use(QUEUES_PATH, (_req: Request, res: Response) => {
      res.status(404).type('html').send(notFoundPage('The dashboard reads exported files only (no Redis): the queues are the cluster\'s. Start a cluster (vsva-sim up) and the dashboard with it.'));
    });
    return { close: async () => {} };
  }
  // bull-board reads (counts, jobs): bounded like every CLI call, so a dead Redis answers an error, not a hang
  const connection = connectRedis(redis.url, boundedRedisOptions());
  connection.on('error', () => {});
  // every partition of each data queue, in the namespace's layout (none yet: the configured one)
  const partitions = await layoutPartitions(connection, redis.prefix, loadConfig().partitions).catch(() => loadConfig().partitions);
  const names = COMPONENTS.flatMap((c) => [...dataQueues(c, partitions), queueName(c, 'ctl')]);
  const queues = names.map((name) => new Queue(name, { connection, prefix: redis.prefix }));
  for (const q of queues) q.on('error', () => {});
  const server = new ExpressAdapter();
  server.setBasePath(QUEUES_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })), serverAdapter: server, options: { uiConfig: { boardTitle: 'vsva-sim queues' } } });
  app.use(QUEUES_PATH, server.getRouter());
  return {
    close: async () => {
      await Promise.allSettled(queues.map((q) => q.close()));
      connection.disconnect();
    },
  };
}
