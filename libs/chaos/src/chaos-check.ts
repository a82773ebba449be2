import type { LogEntry } from '../../contracts/src/index.js';
import type { ReplayResult } from '../../engine/src/index.js';
import type { RunReport } from '../../runtime/src/index.js';
import type { ChaosRunInput, ChaosRunResult, Finding, InjectedFault } from './chaos-run.js';
import { checkDelivery } from './delivery-check.js';
import type { DeviceFault } from './device-faults.js';
import { runLabel } from '../../scenario/src/index.js';
import { guestVisibleDifferences } from './outcome-compare.js';

export interface JudgeArgs {
  input: ChaosRunInput;
  engine: 'embedded' | 'cluster';
  /** the faulted run's log and report */
  entries: readonly LogEntry[];
  report: RunReport;
  /** the same run with the device faults and without the infrastructure's */
  reference: RunReport;
  refEntries: readonly LogEntry[];
  /** the same run with no fault at all */
  pristine: RunReport;
  injected: InjectedFault[];
  devices: DeviceFault[];
  yaml: () => string;
  /** the last log sequence at which an infrastructure fault acted */
  healedAtSeq: number;
  replay: ReplayResult;
  /** whether the log equals the reference's entry for entry, where it must (no reordering fault) */
  identicalTo?: boolean;
}

/**
 * The chaos checker (issue 11 point 3). Infrastructure faults are invisible to the modelled kernel: the
 * run must end as the reference ends for a guest (verdict, invariants, foreground results), consume
 * every input once with every output there (checkDelivery), and replay identically. Device faults are
 * the model's: an invariant the reference breaks and the fault-free run keeps is a finding, reported
 * with the faults that provoked it.
 */
export function judge(a: JudgeArgs): ChaosRunResult {
  const { input: i, report } = a;
  const delivery = checkDelivery(a.entries);
  const differences = guestVisibleDifferences(a.reference, a.refEntries, report);
  if (a.identicalTo === false) differences.push('the log differs from the run without the infrastructure faults, whose schedule it follows');
  const policy = runLabel(i.policy.preset, i.policy.overrides as Record<string, string | number | boolean>);
  const before = new Set(a.pristine.violations.map((v) => v.invariant));
  // with no device fault, what the reference breaks it breaks under the interleaving the infrastructure's
  // faults made (the cluster's own consumption order): said so, not left blank
  const fault = a.devices.map((d) => `${d.kind} on ${d.target} at step ${d.step}`).join('; ') || `no device fault: the interleaving of the run under ${a.injected.map((f) => f.kind).join(', ') || 'no fault'}`;
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const v of a.reference.violations) {
    if (before.has(v.invariant) || v.invariant === 'expected-outcome' || seen.has(v.invariant)) continue;
    seen.add(v.invariant);
    findings.push({ scenario: i.scenario.name, policy, seed: i.seed, invariant: v.invariant, message: v.message, fault, reproduce: i.reproduce });
  }
  const liveness = !report.violations.some((v) => v.invariant === 'liveness') && report.outcomes.every((o) => o.result !== 'timeout');
  const ok = delivery.lost === 0 && delivery.duplicated === 0 && a.replay.identical && differences.length === 0 && findings.length === 0;
  return {
    scenario: i.scenario.name, file: i.file, policy, seed: i.seed, engine: a.engine, faults: i.faults, injected: a.injected,
    phases: {
      safety: { invariants: report.checked.filter((c) => c !== 'liveness'), untilSeq: a.healedAtSeq },
      liveness: { invariants: ['liveness'], completed: liveness },
    },
    lost: delivery.lost, duplicated: delivery.duplicated, problems: delivery.problems,
    replayIdentical: a.replay.identical, ...(a.replay.divergence ? { replay: { divergence: a.replay.divergence } } : {}),
    differences, findings, devices: a.devices, report, entries: a.entries, policyResolved: i.policy, reproduce: i.reproduce, yaml: a.yaml, ok,
  };
}
