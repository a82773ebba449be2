import { TransportConfigError } from './errors.js';

/** Which of a service's two queues: `data` (ordered, concurrency 1) or `ctl` (control, concurrency 16). */
export type QueueChannel = 'data' | 'ctl';

/** Worker concurrency per channel: data keeps FIFO order (the log records it), control may overlap. */
export const CHANNEL_CONCURRENCY: Readonly<Record<QueueChannel, number>> = { data: 1, ctl: 16 };

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]*$/i;

/**
 * The BullMQ queue of a service: `vsva.<service>` for data, `vsva.<service>.ctl` for control.
 * `service` is the bare name (e.g. `vfio-type1`); the BullMQ prefix is separate (transport options).
 */
export function queueName(service: string, channel: QueueChannel = 'data'): string {
  if (!SERVICE_NAME.test(service)) {
    throw new TransportConfigError(`invalid service name '${service}': letters, digits, '.', '_' and '-' only`);
  }
  return channel === 'ctl' ? `vsva.${service}.ctl` : `vsva.${service}`;
}

/** The queues a service listens on, with their concurrency: pass to `BullMqServer`'s `queues`. */
export function serviceQueues(service: string): Array<{ name: string; concurrency: number }> {
  return (['data', 'ctl'] as const).map((channel) => ({
    name: queueName(service, channel),
    concurrency: CHANNEL_CONCURRENCY[channel],
  }));
}

/** BullMQ rejects queue names with ':' (its key separator) and empty names; fail early and say which. */
export function assertQueueName(name: string, what = 'queue'): void {
  if (typeof name !== 'string' || name.length === 0 || name.includes(':')) {
    throw new TransportConfigError(`invalid ${what} name '${String(name)}': must be non-empty and contain no ':'`);
  }
}
