import { DEFAULTS, loadConfig, type Config } from '../../config/src/index.js';

/**
 * How fast a killed service's work comes back, and how often state is snapshotted (the variables,
 * their defaults and why: libs/config).
 *
 * A job whose worker died stays locked for up to `lockMs`, then a stalled check (every `stalledMs`)
 * puts it back: redelivery comes within about `lockMs + stalledMs` of the crash. The lock is renewed
 * every `lockMs / 2` while a job runs, so `lockMs` must exceed the longest event-loop stall of a live
 * service, or a live job is taken for dead and delivered twice (harmless, the marker dedupes, but noisy).
 */
export interface RecoveryConfig {
  /** VSVA_LOCK_MS */
  lockMs: number;
  /** VSVA_STALLED_MS */
  stalledMs: number;
  /** VSVA_MAX_STALLED: BullMQ fails a job stalled more often than this (its own default, 1, would lose an input to a second crash) */
  maxStalledCount: number;
  /** VSVA_SNAPSHOT_EVERY: entries of a run's log between two snapshots of a component's state; 0 never */
  snapshotEvery: number;
}

export function recoveryConfigOf(c: Config = loadConfig()): RecoveryConfig {
  return { lockMs: c.lockMs, stalledMs: c.stalledMs, maxStalledCount: c.maxStalled, snapshotEvery: c.snapshotEvery };
}

export const DEFAULT_RECOVERY: RecoveryConfig = recoveryConfigOf(DEFAULTS);

/** The BullMQ Worker options these settings mean. */
export function workerOptionsOf(r: RecoveryConfig): { lockDuration: number; stalledInterval: number; maxStalledCount: number } {
  return { lockDuration: r.lockMs, stalledInterval: r.stalledMs, maxStalledCount: r.maxStalledCount };
}
