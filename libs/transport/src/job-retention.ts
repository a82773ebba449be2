import type { KeepJobs } from 'bullmq';

/** How long BullMQ keeps the jobs this transport adds once they finished (BullMQ's removeOnComplete/removeOnFail). */
export interface JobRetention {
  removeOnComplete: KeepJobs | boolean | number;
  removeOnFail: KeepJobs | boolean | number;
}

/**
 * Every job the transport adds (requests, events, replies) is removed once finished: completed jobs
 * after an hour or past the last 1000 of their queue, failed ones after 7 days or past the last
 * 10 000 (kept longer: they are what someone will look at). BullMQ evicts when another job of the
 * same kind finishes, not on a timer. An event's job id drops a re-sent event only while its first job
 * is kept; past that, the component host's marker makes the redelivery decide nothing again.
 */
export const DEFAULT_JOB_RETENTION: Readonly<{ removeOnComplete: KeepJobs; removeOnFail: KeepJobs }> = Object.freeze({
  removeOnComplete: { age: 60 * 60, count: 1000 },
  removeOnFail: { age: 7 * 24 * 60 * 60, count: 10_000 },
});

/** `overrides` over the defaults, field by field. */
export function jobRetention(overrides: Partial<JobRetention> = {}): JobRetention {
  return {
    removeOnComplete: overrides.removeOnComplete ?? DEFAULT_JOB_RETENTION.removeOnComplete,
    removeOnFail: overrides.removeOnFail ?? DEFAULT_JOB_RETENTION.removeOnFail,
  };
}

/**
 * An event job's retries: tried `attempts` times in all (a handler that threw, Redis briefly away),
 * backing off exponentially from `delayMs`; one attempt adds nothing.
 */
export function eventRetry(attempts: number, delayMs: number): { attempts?: number; backoff?: { type: 'exponential'; delay: number } } {
  return attempts > 1 ? { attempts, backoff: { type: 'exponential', delay: delayMs } } : {};
}
