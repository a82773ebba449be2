import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobRetention } from './job-retention.js';

interface Entry {
  queue: Queue;
  busy: number;
}

/**
 * The producer side of reply queues: one BullMQ `Queue` per requester's reply queue, on one shared
 * connection, opened on first use. Every client has its own reply queue, so a long-lived server would
 * collect them: past `max`, idle queues are closed least recently used first.
 */
export class ReplyQueues {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
    private readonly onError: (err: Error) => void,
    /** retention of reply jobs, as of every job the transport adds (job-retention.ts) */
    private readonly jobOptions: JobsOptions = jobRetention(),
    private readonly max = 256,
  ) {}

  async add(queueName: string, jobName: string, data: unknown): Promise<void> {
    const entry = this.take(queueName);
    entry.busy++;
    try {
      await entry.queue.add(jobName, data, this.jobOptions);
    } finally {
      entry.busy--;
    }
  }

  async close(): Promise<void> {
    const queues = [...this.entries.values()].map((e) => e.queue);
    this.entries.clear();
    await Promise.allSettled(queues.map((q) => q.close()));
  }

  private take(queueName: string): Entry {
    let entry = this.entries.get(queueName);
    if (entry) {
      this.entries.delete(queueName); // re-insert: Map order is the LRU order
    } else {
      const queue = new Queue(queueName, { connection: this.connection, prefix: this.prefix });
      queue.on('error', this.onError);
      entry = { queue, busy: 0 };
      this.evict();
    }
    this.entries.set(queueName, entry);
    return entry;
  }

  private evict(): void {
    for (const [name, entry] of this.entries) {
      if (this.entries.size < this.max) return;
      if (entry.busy > 0) continue;
      this.entries.delete(name);
      void entry.queue.close().catch(this.onError);
    }
  }
}
