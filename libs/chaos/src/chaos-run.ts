import type { LogEntry, ResolvedPolicy } from '../../contracts/src/index.js';
import type { ReplayResult } from '../../engine/src/index.js';
import type { RunReport } from '../../runtime/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import type { DeliveryProblem } from './delivery-check.js';
import type { DeviceFault } from './device-faults.js';
import type { RunFaults } from './fault-spec.js';
import type { FaultKindName } from './kinds.js';

/** What a chaos run is asked to do. */
export interface ChaosRunInput {
  file: string;
  scenario: Scenario;
  policy: ResolvedPolicy;
  seed: number;
  faults: RunFaults;
  /** the command that gives this run again */
  reproduce: string;
}

/** A fault as it was injected: what, on what, and where the log stood (its sequence) when it acted. */
export interface InjectedFault {
  kind: FaultKindName;
  target: string;
  seq: number;
  /** ms since the run started (cluster) */
  atMs?: number;
  /** the scheduler's slot (embedded) */
  slot?: number;
  /** the step a device fault is */
  step?: number;
  note?: string;
}

/** An invariant a device fault broke that the run without it keeps: the model's finding. */
export interface Finding {
  scenario: string;
  policy: string;
  seed: number;
  invariant: string;
  message: string;
  /** the device faults of the run that provoked it */
  fault: string;
  reproduce: string;
  /** the faulted scenario, written where `--out` says */
  file?: string;
}

/** One chaos run, checked (chaos-check.ts). */
export interface ChaosRunResult {
  scenario: string;
  file: string;
  policy: string;
  seed: number;
  engine: 'embedded' | 'cluster';
  faults: RunFaults;
  injected: InjectedFault[];
  /** where each invariant was checked: safety (faults active, the whole history) and liveness (faults healed: the run completed) */
  phases: { safety: { invariants: string[]; untilSeq: number }; liveness: { invariants: string[]; completed: boolean } };
  lost: number;
  duplicated: number;
  problems: DeliveryProblem[];
  replayIdentical: boolean;
  replay?: Pick<ReplayResult, 'divergence'>;
  /** what differs, as a guest or a reviewer sees it, from the same run without the infrastructure faults */
  differences: string[];
  findings: Finding[];
  /** the device faults, as steps of the faulted scenario */
  devices: DeviceFault[];
  report: RunReport;
  /** the faulted run's log */
  entries: readonly LogEntry[];
  policyResolved: ResolvedPolicy;
  reproduce: string;
  /** the faulted scenario as a file */
  yaml: () => string;
  ok: boolean;
}
