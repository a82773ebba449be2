import type { Engine } from './engine.js';

/** What a fault acts on: the processes and Redis, the delivery of jobs, or the modelled hardware. */
export type FaultFamily = 'process' | 'delivery' | 'device';

export interface FaultKind {
  family: FaultFamily;
  engines: readonly Engine[];
  what: string;
  /** the rate a kind named without one gets (per job for delivery faults; see fault-spec.ts) */
  defaultRate: number;
}

/**
 * Every fault `vsva-sim chaos` can inject (issue 11). Process and delivery faults are the
 * infrastructure's: invisible to the modelled kernel, so a run under them must end as it ends without
 * them. Device faults are the model's: steps of the run (device-faults.ts), judged by the invariants.
 */
export const FAULT_KINDS = {
  kill: { family: 'process', engines: ['cluster'], defaultRate: 0, what: 'SIGKILL a service and restart it' },
  pause: { family: 'process', engines: ['cluster'], defaultRate: 0, what: 'SIGSTOP a service longer than its job lock, then SIGCONT (its job is taken over or redelivered)' },
  redis: { family: 'process', engines: ['cluster'], defaultRate: 0, what: 'SIGKILL redis-server and restart it from its append-only file' },
  disconnect: { family: 'process', engines: ['cluster'], defaultRate: 0, what: "drop a service's Redis connections" },
  duplicate: { family: 'delivery', engines: ['embedded', 'cluster'], defaultRate: 0.05, what: 'a job delivered twice' },
  delay: { family: 'delivery', engines: ['embedded', 'cluster'], defaultRate: 0.05, what: 'a delivery held back behind later ones (queues interleave differently)' },
  crash: { family: 'delivery', engines: ['embedded', 'cluster'], defaultRate: 0.03, what: 'a component dies mid-input and is rebuilt from snapshot + log' },
  'surprise-removal': { family: 'device', engines: ['embedded', 'cluster'], defaultRate: 0, what: 'a parent device is surprise-removed (for good)' },
  ite: { family: 'device', engines: ['embedded', 'cluster'], defaultRate: 0, what: 'a devTLB invalidation times out once (ITE) and is resubmitted' },
  'devtlb-unresponsive': { family: 'device', engines: ['embedded', 'cluster'], defaultRate: 0, what: 'a device stops answering devTLB invalidations for several attempts, then answers again' },
  'prq-overflow': { family: 'device', engines: ['embedded', 'cluster'], defaultRate: 0, what: "the host's page request queue is full for a device's next page requests" },
  'fault-storm': { family: 'device', engines: ['embedded', 'cluster'], defaultRate: 0, what: 'a device issues a burst of DMA that faults non-recoverably' },
} as const satisfies Record<string, FaultKind>;

export type FaultKindName = keyof typeof FAULT_KINDS;
export const FAULT_KIND_NAMES = Object.keys(FAULT_KINDS) as FaultKindName[];

export const familyOf = (k: FaultKindName): FaultFamily => FAULT_KINDS[k].family;
/** Infrastructure faults: the checker requires the run to end as it ends without them. */
export const isInfra = (k: FaultKindName): boolean => familyOf(k) !== 'device';
export const kindsFor = (engine: Engine): FaultKindName[] => FAULT_KIND_NAMES.filter((k) => (FAULT_KINDS[k].engines as readonly Engine[]).includes(engine));
