import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { DEFAULTS } from '../../config/src/index.js';
import type { Component } from '../../contracts/src/index.js';
import { pidAlive } from './pids.js';

/**
 * Leases in a namespace (the Redis prefix): a key with an expiry that its holder renews while alive.
 * The namespace's own (one supervisor or owning `run` at a time), each service process's replica slot
 * (its heartbeat: health is read from it, never from a round trip through a queue that a loaded machine
 * can make slow) and each data-queue partition's (one consumer at a time: partitions/).
 *
 * The key holds the holder's identity and its last beat as JSON. Acquire, renew and take-over are
 * each one script, so two processes racing for the lease cannot both win.
 */
export interface LeaseHolder {
  /** random per process start: a restarted process on the same pid is another holder */
  instance: string;
  pid: number;
  host: string;
  startedAt: number;
  /** wall-clock time of the last renewal */
  beatAt: number;
  /** what the holder reports about itself (inputs, duplicates, restarts …) */
  stats?: Record<string, number>;
  /** what kind of holder: a service, `up`'s supervisor, a `run` that started a cluster for itself */
  role?: string;
}

/** VSVA_LEASE_MS's default: a lease's ttl when none is given (libs/config) */
export const DEFAULT_LEASE_MS = DEFAULTS.leaseMs;

/**
 * Every lease of a namespace carries the namespace as a Redis Cluster hash tag (`<prefix>:{<prefix>}:lease:…`):
 * status and the partition owners read many of them in one MGET, which a Cluster allows within one slot.
 */
const leases = (prefix: string) => `${prefix}:{${prefix}}:lease`;
/** The namespace's own lease (`up`'s supervisor, or a `run` that started a cluster for itself). */
export const leaseKey = (prefix: string, c: 'cluster') => `${leases(prefix)}:${c}`;
/** A service process's own lease: replica slot `slot` of its component (libs/cluster/src/partitions). */
export const replicaLeaseKey = (prefix: string, c: Component, slot: number) => `${leases(prefix)}:${c}:r${slot}`;
/** The lease on one partition of a component's data queue: who consumes it. */
export const partitionLeaseKey = (prefix: string, c: Component, partition: number) => `${leases(prefix)}:${c}:p${partition}`;

/** KEYS[1] lease; ARGV[1] instance, ARGV[2] value, ARGV[3] ttl ms. Sets it if free or ours; else returns the holder. */
const ACQUIRE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, h = pcall(cjson.decode, cur)
  if not ok or type(h) ~= 'table' or h.instance ~= ARGV[1] then return cur end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return false`;

/** KEYS[1] lease; ARGV[1] the holder's raw value seen, ARGV[2] new value, ARGV[3] ttl ms. Replaces a dead holder only if unchanged. */
const TAKEOVER_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

/** KEYS[1] lease; ARGV[1] instance. Deletes it only if ours. */
const RELEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, h = pcall(cjson.decode, cur)
  if ok and type(h) == 'table' and h.instance == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
end
return 0`;

export function parseHolder(raw: string | null): LeaseHolder | null {
  if (!raw) return null;
  try {
    const h = JSON.parse(raw) as LeaseHolder;
    return typeof h === 'object' && h && typeof h.pid === 'number' ? h : null;
  } catch {
    return null;
  }
}

/** The holder is a process of this machine that no longer exists (its lease outlived it: SIGKILL). */
export function holderIsDeadHere(h: LeaseHolder): boolean {
  return h.host === hostname() && !pidAlive(h.pid);
}

export class LeaseHeldError extends Error {
  constructor(readonly what: string, readonly holder: LeaseHolder) {
    super(`${what} is already held by pid ${holder.pid} on ${holder.host} (last heartbeat ${((Date.now() - holder.beatAt) / 1000).toFixed(1)} s ago): one consumer per queue in a namespace; stop that process, or use another VSVA_PREFIX`);
  }
}

export interface LeaseOptions {
  ttlMs?: number;
  role?: string;
  /** what the holder reports in each beat */
  stats?: () => Record<string, number>;
  /** the lease was taken by someone else (this process was paused past its expiry): stop consuming */
  onLost?: (by: LeaseHolder | null) => void;
  /** renewals are failing (Redis unreachable); called once per outage with its start, and with null when it ends */
  onTrouble?: (since: number | null, err?: Error) => void;
}

/** A held lease: renewed every ttl/3 until released. */
export class Lease {
  readonly instance = randomBytes(8).toString('hex');
  private timer?: NodeJS.Timeout;
  readonly ttl: number;
  /** when the last renewal succeeded: past ttl, the lease may be someone else's */
  private renewedAt = 0;
  private troubleSince: number | null = null;
  private readonly startedAt = Date.now();
  private lost = false;

  constructor(private readonly redis: Redis, readonly key: string, private readonly opts: LeaseOptions = {}) {
    this.ttl = opts.ttlMs ?? DEFAULT_LEASE_MS;
  }

  private value(): string {
    const h: LeaseHolder = { instance: this.instance, pid: process.pid, host: hostname(), startedAt: this.startedAt, beatAt: Date.now(), ...(this.opts.role ? { role: this.opts.role } : {}), ...(this.opts.stats ? { stats: this.opts.stats() } : {}) };
    return JSON.stringify(h);
  }

  /**
   * One attempt, without waiting: null when the lease is now this process's (renewed from then on),
   * else its live holder. A holder that died on this machine is replaced at once.
   */
  async tryAcquire(): Promise<LeaseHolder | null> {
    for (;;) {
      const cur = (await this.redis.eval(ACQUIRE_LUA, 1, this.key, this.instance, this.value(), this.ttl)) as string | null;
      if (!cur) break;
      const holder = parseHolder(cur);
      if (holder && !holderIsDeadHere(holder)) return holder;
      // replaced only if unchanged: a process that replaced it first is found live on the next turn
      if ((await this.redis.eval(TAKEOVER_LUA, 1, this.key, cur, this.value(), this.ttl)) === 1) break;
    }
    this.renewedAt = Date.now();
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.ttl / 3)));
    this.timer.unref();
    return null;
  }

  /**
   * Takes the lease, or throws LeaseHeldError naming the live holder. A holder that died on this
   * machine is replaced at once; one elsewhere (a container) is waited out up to its expiry.
   */
  async acquire(what: string): Promise<void> {
    const deadline = Date.now() + this.ttl + 1000;
    for (;;) {
      const holder = await this.tryAcquire();
      if (!holder) return;
      if (holder.host === hostname() || Date.now() > deadline) throw new LeaseHeldError(what, holder);
      // a holder on another machine may be dead: its lease lapses unless it renews
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Still ours, as far as this process can know: renewed within the ttl (a paused process is not). */
  held(): boolean {
    return !this.lost && Date.now() - this.renewedAt < this.ttl;
  }

  private async renew(): Promise<void> {
    if (this.lost) return;
    try {
      const cur = (await this.redis.eval(ACQUIRE_LUA, 1, this.key, this.instance, this.value(), this.ttl)) as string | null;
      if (cur) {
        this.lost = true;
        this.stop();
        this.opts.onLost?.(parseHolder(cur));
        return;
      }
      this.renewedAt = Date.now();
      if (this.troubleSince !== null) {
        this.troubleSince = null;
        this.opts.onTrouble?.(null);
      }
    } catch (e) {
      if (this.troubleSince === null) {
        this.troubleSince = Date.now();
        this.opts.onTrouble?.(this.troubleSince, e as Error);
      }
    }
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Gives the lease up (a clean stop): the next process need not wait for it to lapse. */
  async release(): Promise<void> {
    this.stop();
    if (this.lost) return;
    await this.redis.eval(RELEASE_LUA, 1, this.key, this.instance).catch(() => {});
  }
}

/** The holders of the named leases, read in one call (writes nothing). */
export async function readLeases<K extends 'cluster'>(redis: Redis, prefix: string, names: readonly K[]): Promise<Record<K, LeaseHolder | null>> {
  const raws = names.length ? await redis.mget(...names.map((n) => leaseKey(prefix, n))) : [];
  return Object.fromEntries(names.map((n, i) => [n, parseHolder(raws[i] ?? null)])) as Record<K, LeaseHolder | null>;
}
