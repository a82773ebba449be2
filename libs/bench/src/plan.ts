import type { WorkloadShape } from './workload.js';

/** Sizes, counts and trials of one bench run; `quick` is the under-a-minute version of `full`. */
export interface BenchPlan {
  /** wall-clock budget: the scale figure stops adding trials or sizes that would not fit (and says so) */
  budgetSeconds: number;
  throughput: { trials: number; shape: WorkloadShape; lanes: number; peerJobs: number; everysecVariant: boolean };
  latency: { trials: number; n: number; warmup: number };
  append: { trials: number; vms: number; copies: number };
  replay: { trials: number; minEntries: number };
  embedded: { trials: number; runs: number; minMs: number };
  scale: { trials: number; vms: number[] };
  /** issue 14: hop throughput with these replicas per service, on one Redis and (redisCluster) on a local three-master Redis Cluster */
  scaleOut: { replicas: number[]; trials: number; lanes: number; peerJobs: number; redisCluster: boolean };
  /**
   * Exploration (issue 12): each bug-table entry searched from these seeds, guided and uniform, each
   * search stopped at `capS` seconds or `capRuns` runs; the guided finding shrunk in at most
   * `shrinkRuns` runs; mainline explored for `mainlineS` seconds.
   */
  explore: { seeds: number[]; capS: number; capRuns: number; shrinkRuns: number; mainlineS: number };
}

/** The hop-throughput and embedded workload: 4 VMs on one shared parent (binds, invalidations, DMA). */
export const WORKLOAD: WorkloadShape = { vms: 4, vmsPerParent: 4, rounds: 2, backgroundDma: 4 };

export const PLANS: Record<'quick' | 'full', BenchPlan> = {
  quick: {
    budgetSeconds: 55,
    throughput: { trials: 3, shape: { vms: 2, vmsPerParent: 2, rounds: 1, backgroundDma: 2 }, lanes: 6, peerJobs: 2000, everysecVariant: false },
    latency: { trials: 3, n: 120, warmup: 20 },
    append: { trials: 3, vms: 16, copies: 1 },
    replay: { trials: 3, minEntries: 10_000 },
    embedded: { trials: 3, runs: 5, minMs: 300 },
    scale: { trials: 1, vms: [1, 8] },
    scaleOut: { replicas: [1, 2], trials: 1, lanes: 4, peerJobs: 1000, redisCluster: false },
    explore: { seeds: [1], capS: 10, capRuns: 5_000, shrinkRuns: 2_000, mainlineS: 10 },
  },
  full: {
    budgetSeconds: 570,
    throughput: { trials: 3, shape: WORKLOAD, lanes: 12, peerJobs: 10_000, everysecVariant: true },
    latency: { trials: 3, n: 1000, warmup: 50 },
    append: { trials: 5, vms: 16, copies: 4 },
    replay: { trials: 5, minEntries: 100_000 },
    embedded: { trials: 5, runs: 20, minMs: 1000 },
    scale: { trials: 3, vms: [1, 16, 64, 256] },
    scaleOut: { replicas: [1, 2, 4], trials: 2, lanes: 12, peerJobs: 6000, redisCluster: true },
    explore: { seeds: [1, 2, 3], capS: 60, capRuns: 30_000, shrinkRuns: 2_000, mainlineS: 60 },
  },
};
