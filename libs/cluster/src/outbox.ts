import { COMPONENTS, type Component, type Envelope } from '../../contracts/src/index.js';
import { BullMqClient, partitionOf, queueName } from '../../transport/src/index.js';
import type { ClusterConfig } from './config.js';
import type { Outbox } from '../../runtime/src/index.js';

/** The pattern every component's data queue handles: one recorded input per job. */
export const DELIVER = 'deliver';

/**
 * Sends envelopes to other components' data queues, each to the partition of its run (the namespace's
 * layout: `partitions`). The job id is the run and event id, so a command re-sent after a redelivery
 * is deduplicated while the first job still exists (the log's marker covers the rest).
 */
export class QueueOutbox implements Outbox {
  private readonly clients = new Map<string, BullMqClient>();

  constructor(private readonly cfg: ClusterConfig, private readonly from: string, private readonly partitions: number) {}

  client(to: Component, runId: string): BullMqClient {
    const queue = queueName(to, 'data', partitionOf(runId, this.partitions));
    let c = this.clients.get(queue);
    if (!c) {
      c = new BullMqClient({
        url: this.cfg.redisUrl, prefix: this.cfg.prefix, queue, service: to,
        replyQueue: `${queue}.reply.${this.from}.${process.pid}`,
        // a delivery whose handler threw (Redis briefly away, say) is tried again: the host is idempotent
        eventAttempts: 8,
        retryDelayMs: 250,
        jobIdOf: (_p, data) => {
          const e = data as Envelope;
          return `${e.runId}.${e.id}`;
        },
      });
      this.clients.set(queue, c);
    }
    return c;
  }

  async send(e: Envelope): Promise<void> {
    await this.client(e.to, e.runId).dispatchEvent({ pattern: DELIVER, data: e });
  }

  async sendAll(es: Envelope[]): Promise<void> {
    for (const e of es) await this.send(e);
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}

export { COMPONENTS };
