import { DEFAULT_SNAPSHOT_EVERY } from '../../runtime/src/index.js';

/**
 * How fast a killed service's work comes back, and how often state is snapshotted; from the environment.
 *
 * A job whose worker died stays locked for up to `lockMs`, then a stalled check (every `stalledMs`)
 * puts it back: redelivery comes within about `lockMs + stalledMs` of the crash. The lock is renewed
 * every `lockMs / 2` while a job runs, so `lockMs` must exceed the longest event-loop stall of a live
 * service, or a live job is taken for dead and delivered twice (harmless, the marker dedupes, but noisy).
 */
export interface RecoveryConfig {
  /** VSVA_LOCK_MS, default 5000 (BullMQ's own: 30000) */
  lockMs: number;
  /** VSVA_STALLED_MS, default 2000 (BullMQ's own: 30000) */
  stalledMs: number;
  /**
   * VSVA_MAX_STALLED, default 1000. BullMQ fails a job stalled more often than this (its default: 1, so a
   * second crash on the same job would lose the input). High, but bounded: a job that kills its service
   * every time ends in the failed set (kept, visible) instead of crash-looping for ever.
   */
  maxStalledCount: number;
  /**
   * VSVA_SNAPSHOT_EVERY, default 2000: a component snapshots its state in a run once the run's log has
   * grown by this many entries since its last snapshot; 0 never. Counted in entries because a rebuild
   * reads every entry after the snapshot, all components', and that read is most of its cost.
   * Measured on a 100,000-entry log (test/recovery/snapshot.test.ts): rebuild ~0.45-0.9 s without a
   * snapshot, ~10-30 ms from one 2000 entries old (~45-100 ms at 10,000, ~3-30 ms at 500). The largest
   * state, the orchestrator's (~0.5-0.9 MB for a 4,000-step run), takes ~7-17 ms to write, once per
   * 2000 entries: under 1% of the 3-5 s a run takes to record them in the cluster. 500 would write four
   * times as often to save ~10 ms per restart; 10,000 would add ~50 ms to every restart, whose own floor
   * is the process start (~0.7 s) and the lock.
   */
  snapshotEvery: number;
}

export const DEFAULT_RECOVERY: RecoveryConfig = { lockMs: 5000, stalledMs: 2000, maxStalledCount: 1000, snapshotEvery: DEFAULT_SNAPSHOT_EVERY };

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

export function recoveryConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RecoveryConfig {
  return {
    lockMs: intFrom(env, 'VSVA_LOCK_MS', DEFAULT_RECOVERY.lockMs, 100),
    stalledMs: intFrom(env, 'VSVA_STALLED_MS', DEFAULT_RECOVERY.stalledMs, 50),
    maxStalledCount: intFrom(env, 'VSVA_MAX_STALLED', DEFAULT_RECOVERY.maxStalledCount, 1),
    snapshotEvery: intFrom(env, 'VSVA_SNAPSHOT_EVERY', DEFAULT_RECOVERY.snapshotEvery, 0),
  };
}

/** The BullMQ Worker options these settings mean. */
export function workerOptionsOf(r: RecoveryConfig): { lockDuration: number; stalledInterval: number; maxStalledCount: number } {
  return { lockDuration: r.lockMs, stalledInterval: r.stalledMs, maxStalledCount: r.maxStalledCount };
}
