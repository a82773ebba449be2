import { TransportConfigError } from './errors.js';

/** Which of a service's two queues: `data` (ordered, concurrency 1) or `ctl` (control, concurrency 16). */
export type QueueChannel = 'data' | 'ctl';

/**
 * Worker concurrency per channel: data keeps FIFO order (the log records it), control may overlap. A
 * process overlaps its round trips across the partitions it owns; more than one job of a partition at
 * once was measured (2 and 8, BENCHMARKS.md "Point 3, step by step") and cost more Redis work per hop
 * (idle Worker slots polling) than it overlapped.
 */
export const CHANNEL_CONCURRENCY: Readonly<Record<QueueChannel, number>> = { data: 1, ctl: 16 };

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]*$/i;

/** How many partitions a service's data queue may be split into (VSVA_PARTITIONS' bound). */
export const MAX_PARTITIONS = 64;

/**
 * The BullMQ queue of a service: `{vsva.<service>.p<partition>}` for data (one queue per partition,
 * libs/cluster/src/partitions), `{vsva.<service>.ctl}` for control. `service` is the bare name (e.g.
 * `vfio-type1`); the BullMQ prefix is separate (transport options). The braces are a Redis Cluster hash
 * tag: BullMQ's scripts touch several keys of one queue (`<prefix>:<name>:wait`, `:active`, the job
 * hashes…), and the tag puts them in one slot while each queue may live on another node. A reply queue
 * named after its queue (`{…}.reply.x`) shares the tag.
 */
export function queueName(service: string, channel: QueueChannel = 'data', partition = 0): string {
  if (!SERVICE_NAME.test(service)) {
    throw new TransportConfigError(`invalid service name '${service}': letters, digits, '.', '_' and '-' only`);
  }
  if (!(Number.isInteger(partition) && partition >= 0 && partition < MAX_PARTITIONS)) {
    throw new TransportConfigError(`invalid partition ${partition}: an integer from 0 to ${MAX_PARTITIONS - 1}`);
  }
  return channel === 'ctl' ? `{vsva.${service}.ctl}` : `{vsva.${service}.p${partition}}`;
}

/** Every data queue of a service, one per partition. */
export function dataQueues(service: string, partitions: number): string[] {
  return Array.from({ length: partitions }, (_, i) => queueName(service, 'data', i));
}

/**
 * The partition that consumes a run's inputs (of every component): FNV-1a of the run id, modulo the
 * count. The key is the run because a component's state in a run is one fold (docs/architecture.md,
 * "Partitions"); every VM, container, parent and IOMMU unit of the model lives in exactly one run.
 */
export function partitionOf(runId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    h ^= runId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** BullMQ rejects queue names with ':' (its key separator) and empty names; fail early and say which. */
export function assertQueueName(name: string, what = 'queue'): void {
  if (typeof name !== 'string' || name.length === 0 || name.includes(':')) {
    throw new TransportConfigError(`invalid ${what} name '${String(name)}': must be non-empty and contain no ':'`);
  }
}
