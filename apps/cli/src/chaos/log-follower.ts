import type { Component, LogEntry } from '../../../../libs/contracts/src/index.js';
import { RedisRunLog } from '../../../../libs/event-log/src/index.js';
import type { ClusterConfig } from '../../../../libs/cluster/src/index.js';

/**
 * The nemesis's view of a run: its log as it is written (XREAD BLOCK, within a millisecond of an
 * append), on a connection of its own that rides out the Redis restarts the nemesis itself causes.
 * Every wait ends when `ended()` says the run is over.
 */
export class LogFollower {
  readonly entries: LogEntry[] = [];
  private readonly log: RedisRunLog;

  constructor(cfg: ClusterConfig, private readonly runId: string, private readonly ended: () => boolean) {
    this.log = RedisRunLog.fromUrl(cfg.redisUrl, { prefix: cfg.prefix, redis: { connectTimeout: 1000, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(50 * n, 500) } });
    this.log.redis.on('error', () => {});
  }

  /** The log's length as far as read. */
  get last(): number {
    return this.entries.at(-1)?.seq ?? 0;
  }

  /** Reads what was appended since, waiting up to `blockMs` for it; Redis away: nothing, after a pause. */
  async poll(blockMs = 100): Promise<LogEntry[]> {
    try {
      const es = await this.log.readAfter(this.runId, this.last, blockMs);
      this.entries.push(...es);
      return es;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
      return [];
    }
  }

  /** Until the log holds `seq` entries; false when the run ended first. */
  async reach(seq: number): Promise<boolean> {
    while (this.last < seq) {
      if (this.ended()) return false;
      await this.poll();
    }
    return true;
  }

  /** The first input of `c` appended from now on at or after `fromSeq`, the moment it is read; undefined when the run ended first. */
  async nextInput(c: Component, fromSeq: number): Promise<LogEntry | undefined> {
    for (;;) {
      if (this.ended()) return undefined;
      const hit = (await this.poll()).find((e) => e.kind === 'input' && e.component === c && e.seq >= fromSeq);
      if (hit) return hit;
    }
  }

  /** The last input of `c` read so far. */
  lastInput(c: Component): LogEntry | undefined {
    return this.entries.findLast((e) => e.kind === 'input' && e.component === c);
  }

  async close(): Promise<void> {
    this.log.redis.disconnect();
  }
}
