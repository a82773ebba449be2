import { prngStream } from './prng.js';

/**
 * Where a component dies in the middle of an input: before its append (nothing recorded: the
 * redelivery decides again), after the append and before it sent anything, or after its first send
 * (or, with nothing to send, right after the append). After the append the redelivery finds the
 * input's marker and re-sends what was recorded; the queue drops what it already holds. `reply-lost`:
 * the append is durable but its reply never comes back (Redis killed between the two) and the process
 * lives on: the same host gets the job again, with a memory that never learnt the input.
 */
export type CrashPoint = 'before-append' | 'before-send' | 'mid-send' | 'reply-lost';
export const CRASH_POINTS: readonly CrashPoint[] = ['before-append', 'before-send', 'mid-send', 'reply-lost'];

/** A fault fired at a given slot whatever the draws (tests). Slots count the jobs the scheduler took, from 1. */
export type ForcedFault = { slot: number; kind: 'duplicate' | 'holdBack' } | { slot: number; kind: 'crash'; point: CrashPoint };

/** The faults the scheduler may fire, each a probability per job taken; none by default. */
export interface FaultOptions {
  /** the job is delivered a second time after its first delivery (a stalled job BullMQ hands out again) */
  duplicate?: number;
  /** its receiver crashes mid-input (CrashPoint drawn) and is rebuilt while the job is redelivered */
  crash?: number;
  /** the job is held back behind later jobs (a retry after a backoff): changes the interleaving */
  holdBack?: number;
  force?: readonly ForcedFault[];
  /** no drawn fault fires after this slot: the faults are healed and the run must complete (chaos's liveness phase) */
  healAt?: number;
}

export interface FaultCounts {
  duplicate: number;
  holdBack: number;
  crash: Record<CrashPoint, number>;
}

/** What befalls the job of one slot. */
export interface SlotFaults {
  holdBack: boolean;
  /** for how many slots a held-back job waits (1-8) */
  holdFor: number;
  duplicate: boolean;
  crash?: CrashPoint;
}

export const noFaults = (): FaultCounts => ({ duplicate: 0, holdBack: 0, crash: { 'before-append': 0, 'before-send': 0, 'mid-send': 0, 'reply-lost': 0 } });

/**
 * The faults of a run, a function of the seed: drawn from a stream of their own (prngStream(seed, 1)),
 * a fixed number of draws per slot, so that they never move the scheduler's draws. With no fault
 * asked for, nothing is drawn at all.
 */
export class FaultPlan {
  private readonly rand?: () => number;
  private readonly forced = new Map<number, ForcedFault[]>();
  private readonly p: { duplicate: number; crash: number; holdBack: number };
  private readonly healAt: number;

  constructor(seed: number, o: FaultOptions = {}) {
    this.healAt = o.healAt ?? Infinity;
    this.p = { duplicate: probability('duplicate', o.duplicate), crash: probability('crash', o.crash), holdBack: probability('holdBack', o.holdBack) };
    for (const f of o.force ?? []) {
      if (!Number.isSafeInteger(f.slot) || f.slot < 1) throw new RangeError(`a forced fault's slot must be a positive integer, got ${String(f.slot)}`);
      if (f.kind === 'crash' && !CRASH_POINTS.includes(f.point)) throw new RangeError(`a forced crash's point must be one of ${CRASH_POINTS.join(', ')}, got ${String(f.point)}`);
      this.forced.set(f.slot, [...(this.forced.get(f.slot) ?? []), f]);
    }
    if (this.p.duplicate || this.p.crash || this.p.holdBack) this.rand = prngStream(seed, 1);
  }

  /** Whether a fault may ever fire (a fault-free run takes the short path). */
  get any(): boolean {
    return this.rand !== undefined || this.forced.size > 0;
  }

  /** Whether any hold-back may fire (it reorders: no fixed schedule can be followed with it). */
  get reorders(): boolean {
    return this.p.holdBack > 0 || [...this.forced.values()].some((fs) => fs.some((f) => f.kind === 'holdBack'));
  }

  forSlot(slot: number): SlotFaults {
    const out: SlotFaults = { holdBack: false, holdFor: 1, duplicate: false };
    if (this.rand) {
      // always five draws, fired or not: the stream's position is a function of the slot alone
      const [h, hf, d, c, cp] = [this.rand(), this.rand(), this.rand(), this.rand(), this.rand()];
      if (slot > this.healAt) return out;
      out.holdBack = h < this.p.holdBack;
      out.holdFor = 1 + Math.floor(hf * 8);
      out.duplicate = d < this.p.duplicate;
      if (c < this.p.crash) out.crash = CRASH_POINTS[Math.floor(cp * CRASH_POINTS.length)]!;
    }
    for (const f of this.forced.get(slot) ?? []) {
      if (f.kind === 'crash') out.crash = f.point;
      else if (f.kind === 'holdBack') out.holdBack = true;
      else out.duplicate = true;
    }
    return out;
  }
}

function probability(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`faults.${name} must be a probability (0 to 1), got ${String(v)}`);
  return v;
}
