import type { Envelope } from '../../contracts/src/index.js';

/**
 * Where a component host sends the commands it recorded: BullMQ queues in the cluster
 * (libs/cluster QueueOutbox), the seeded scheduler's channels in the embedded engine.
 */
export interface Outbox {
  send(envelope: Envelope): Promise<void>;
  /** in order: one channel per (sender, receiver) keeps the order of a component's commands */
  sendAll(envelopes: Envelope[]): Promise<void>;
}
