import type { Redis } from 'ioredis';
import { COMPONENTS, type Component } from '../../../libs/contracts/src/index.js';
import { readReplicas } from '../../../libs/cluster/src/index.js';
import { boundedRedis, describeRedisError, oomOf, redactUrl } from '../../../libs/redis/src/index.js';
import { infra } from './errors.js';

/** A stretch of time when Redis or a service was not there. */
export interface Outage {
  what: string;
  from: number;
  to?: number;
  cause: string;
}

const clock = (t: number) => new Date(t).toISOString().slice(11, 23);
export const describeOutage = (o: Outage) =>
  `${o.what} ${o.to ? `unavailable for ${((o.to - o.from) / 1000).toFixed(1)} s from ${clock(o.from)}` : `unavailable since ${clock(o.from)}`} (${o.cause})`;

/**
 * Infrastructure is not a verdict (issue 8): while a run is in flight, Redis and every service's
 * heartbeat are looked at every `everyMs`. An outage longer than a step timeout, or Redis out of
 * memory, ends the wait with an infrastructure error (exit 3) saying what failed and since when; a
 * shorter one is kept, so the report can say the run survived it.
 */
export class InfraWatch {
  readonly outages: Outage[] = [];
  /** rejects when the infrastructure failed; never resolves */
  readonly failed: Promise<never>;
  private fail!: (e: Error) => void;
  private timer?: NodeJS.Timeout;
  private readonly redis: Redis;
  private readonly open = new Map<string, Outage>();
  private ticking = false;

  /**
   * `excusedUntil`: up to when the outages are the caller's own doing (the chaos nemesis kills Redis
   * and services on purpose, and heals them): an outage counts against the limit only from then.
   */
  constructor(private readonly cfg: { redisUrl: string; prefix: string }, private readonly limitMs: number, private readonly everyMs = 1000, private readonly components: readonly Component[] = COMPONENTS, private readonly excusedUntil: () => number = () => 0) {
    this.failed = new Promise<never>((_, reject) => (this.fail = reject));
    this.failed.catch(() => {});
    this.redis = boundedRedis(cfg.redisUrl, { commandTimeout: Math.max(500, everyMs), connectTimeout: Math.max(500, everyMs), maxRetriesPerRequest: 0 });
  }

  start(): this {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    for (const o of this.open.values()) o.to = Date.now();
    this.open.clear();
    this.redis.disconnect();
  }

  private begin(what: string, cause: string, now: number): Outage {
    let o = this.open.get(what);
    if (!o) {
      o = { what, from: now, cause };
      this.open.set(what, o);
      this.outages.push(o);
    }
    return o;
  }

  private end(what: string, now: number): void {
    const o = this.open.get(what);
    if (o) {
      o.to = now;
      this.open.delete(what);
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    const now = Date.now();
    const redisWhat = `Redis at ${redactUrl(this.cfg.redisUrl)}`;
    try {
      const info = (await this.redis.info('memory')) as string;
      const field = (k: string) => new RegExp(`^${k}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
      const oom = oomOf({ version: '', usedMemory: Number(field('used_memory')), maxMemory: Number(field('maxmemory')), policy: field('maxmemory_policy') });
      if (oom) return this.fail(infra(`infrastructure: ${redisWhat} is ${oom}; the run cannot record anything`));
      this.end(redisWhat, now);
      const replicas = await readReplicas(this.redis, this.cfg.prefix, this.components);
      for (const c of this.components) {
        const what = `service ${c}`;
        if (replicas[c].length) this.end(what, now);
        else this.check(this.begin(what, 'no heartbeat: the process is gone, paused or cut off from Redis', now), now);
      }
    } catch (e) {
      this.check(this.begin(redisWhat, describeRedisError(this.cfg.redisUrl, e), now), now);
    } finally {
      this.ticking = false;
    }
  }

  private check(o: Outage, now: number): void {
    const from = Math.max(o.from, this.excusedUntil());
    if (now - from >= this.limitMs) {
      const excused = from > o.from ? `, ${((now - from) / 1000).toFixed(1)} s of it since the chaos nemesis healed the cluster` : '';
      this.fail(infra(`infrastructure: ${o.what} unavailable since ${clock(o.from)} (${((now - o.from) / 1000).toFixed(1)} s${excused}, longer than the step timeout of ${this.limitMs} ms): ${o.cause}`));
    }
  }
}
