import type { Redis } from 'ioredis';
import type { Component } from '../../../contracts/src/index.js';
import { Lease, partitionLeaseKey, type LeaseHolder } from '../lease.js';
import { partitionsOfSlot } from './assignment.js';
import { readReplicas } from './replicas.js';

export interface PartitionOwnerOptions {
  redis: Redis;
  prefix: string;
  component: Component;
  partitions: number;
  /** this process's replica slot (its own lease) */
  slot: number;
  ttlMs: number;
  /** a partition is now this process's: bring back its orphaned jobs, then consume it */
  onAcquire: (partition: number) => Promise<void>;
  /**
   * A partition is no longer this process's: stop consuming it and forget its runs. `handover`: its
   * jobs in flight finish first, then the lease is released; `lost`: the lease was taken while this
   * process was not renewing it, and another may be consuming already.
   */
  onRelease: (partition: number, how: 'handover' | 'lost') => Promise<void>;
  onEvent?: (message: string) => void;
}

/**
 * The partitions of one service process (DESIGN.md §7): every third of a lease it reads which replicas
 * of its service are alive, works out its share (assignment.ts), hands over what is no longer its own
 * and takes up what is, each under a lease in Redis that it renews. A partition is consumed by at most
 * one process at a time: the new owner's lease is taken only once the old one released it (after its
 * jobs in flight) or stopped renewing it (it died, or was paused past the ttl).
 */
export class PartitionOwner {
  private readonly held = new Map<number, Lease>();
  private timer?: NodeJS.Timeout;
  private balancing?: Promise<void>;
  private stopped = false;

  constructor(private readonly o: PartitionOwnerOptions) {}

  /** The partitions consumed now, ascending. */
  owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Consumes this partition, as far as this process can know (its lease renewed within the ttl). */
  owns(partition: number): boolean {
    return this.held.get(partition)?.held() ?? false;
  }

  /** Takes its first share now, then rebalances every third of the lease. */
  async start(): Promise<void> {
    await this.balance();
    this.timer = setInterval(() => void this.balance().catch((e: Error) => this.o.onEvent?.(`partition balance failed: ${e.message}`)), Math.max(50, Math.floor(this.o.ttlMs / 3)));
    this.timer.unref();
  }

  /** One round of hand-over and take-up; rounds never overlap. */
  balance(): Promise<void> {
    this.balancing ??= this.round().finally(() => (this.balancing = undefined));
    return this.balancing;
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    const live = (await readReplicas(this.o.redis, this.o.prefix, [this.o.component]))[this.o.component].map((r) => r.slot);
    // this process is alive whatever a read racing its first beat says
    const mine = new Set(partitionsOfSlot([...live, this.o.slot], this.o.partitions, this.o.slot));
    for (const p of this.owned()) {
      if (!mine.has(p) && !this.stopped) await this.handOver(p, 'no longer its share');
    }
    for (const p of mine) {
      if (this.held.has(p) || this.stopped) continue;
      await this.takeUp(p);
    }
  }

  private async takeUp(p: number): Promise<void> {
    const lease = new Lease(this.o.redis, partitionLeaseKey(this.o.prefix, this.o.component, p), {
      ttlMs: this.o.ttlMs,
      role: 'partition',
      stats: () => ({ slot: this.o.slot }),
      onLost: (by) => void this.lost(p, lease, by),
    });
    const holder = await lease.tryAcquire();
    // still its previous owner's (handing over at its next round, or dead and not yet lapsed): next round
    if (holder) return;
    this.held.set(p, lease);
    try {
      await this.o.onAcquire(p);
      this.o.onEvent?.(`partition ${p} taken up (slot ${this.o.slot})`);
    } catch (e) {
      this.held.delete(p);
      await lease.release();
      throw e;
    }
  }

  private async handOver(p: number, why: string): Promise<void> {
    const lease = this.held.get(p);
    if (!lease) return;
    await this.o.onRelease(p, 'handover');
    this.held.delete(p);
    await lease.release();
    this.o.onEvent?.(`partition ${p} handed over (${why})`);
  }

  private async lost(p: number, lease: Lease, by: LeaseHolder | null): Promise<void> {
    if (this.held.get(p) !== lease) return;
    this.held.delete(p);
    this.o.onEvent?.(`partition ${p} lost to ${by ? `pid ${by.pid} on ${by.host}` : 'another process'} while this one was not renewing its lease: stopped consuming it`);
    await this.o.onRelease(p, 'lost');
  }

  /** Hands over every partition (a clean stop: the other replicas take them at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.balancing?.catch(() => {});
    for (const p of this.owned()) await this.handOver(p, 'stopping');
  }
}
