import { COMPONENTS, type Envelope } from '../../contracts/src/index.js';
import { BullMqProducer, partitionOf, queueName } from '../../transport/src/index.js';
import type { ClusterConfig } from './config.js';
import type { Outbox } from '../../runtime/src/index.js';

/** The pattern every component's data queue handles: one recorded input per job. */
export const DELIVER = 'deliver';

/**
 * Sends envelopes to other components' data queues, each to the partition of its run (the namespace's
 * layout: `partitions`), over one connection (BullMqProducer). The job id is the run and event id, so a
 * command re-sent after a redelivery is deduplicated while the first job still exists (the log's marker
 * covers the rest).
 */
export class QueueOutbox implements Outbox {
  private readonly producer: BullMqProducer;

  constructor(cfg: ClusterConfig, private readonly partitions: number) {
    // a delivery whose handler threw (Redis briefly away, say) is tried again: the host is idempotent
    this.producer = new BullMqProducer({ url: cfg.redisUrl, prefix: cfg.prefix, attempts: 8, retryDelayMs: 250 });
  }

  async send(e: Envelope): Promise<void> {
    await this.sendAll([e]);
  }

  /** A decision's commands in one round trip per receiving queue, the queues at once (BullMqProducer.addAll). */
  async sendAll(es: Envelope[]): Promise<void> {
    if (es.length === 0) return;
    await this.producer.addAll(es.map((e) => ({ queue: queueName(e.to, 'data', partitionOf(e.runId, this.partitions)), pattern: DELIVER, data: e, jobId: `${e.runId}.${e.id}` })));
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

export { COMPONENTS };
