import { isDeepStrictEqual } from 'node:util';
import type { ChaosParams, LogEntry, ResolvedPolicy } from '../../contracts/src/index.js';
import { replayEntries, runEmbedded, type FiredFault } from '../../engine/src/index.js';
import { buildReport } from '../../runtime/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import type { ChaosRunInput, ChaosRunResult, InjectedFault } from './chaos-run.js';
import { judge } from './chaos-check.js';
import { withDeviceFaults, type DeviceFault, type Faulted } from './device-faults.js';
import { deliveryRates, faultsArg } from './fault-spec.js';
import { planOf } from './outcome-compare.js';
import type { FaultKindName } from './kinds.js';

const KIND: Record<FiredFault['kind'], FaultKindName> = { duplicate: 'duplicate', holdBack: 'delay', crash: 'crash' };


/** A run of the embedded engine and its report (the chaos run's twins, in both engines). */
export async function embeddedReport(runId: string, sc: Scenario, policy: ResolvedPolicy, i: Pick<ChaosRunInput, 'seed' | 'file' | 'reproduce'>, extra?: Partial<Parameters<typeof runEmbedded>[0]>) {
  const run = await runEmbedded({ runId, scenario: sc, policy, seed: i.seed, ...extra });
  const report = buildReport({ runId, entries: run.entries, scenario: { name: sc.name, file: i.file }, policy, engine: 'embedded', seed: i.seed, wallMs: 0, reproduce: i.reproduce, extraStats: { deliveries: run.deliveries } });
  return { run, report };
}

/**
 * What every chaos run starts from, in both engines: the scenario with the run's device faults (and
 * without, `bare`), and the parameters recorded in its run.start.
 */
export function prepareChaosRun(i: ChaosRunInput): { faulted: Faulted; bare: Faulted; chaos: ChaosParams } {
  const faulted = withDeviceFaults(i.scenario, i.faults, i.seed, i.file);
  const bare = withDeviceFaults(i.scenario, { rates: {} }, i.seed, i.file);
  return { faulted, bare, chaos: { faults: faultsArg(i.faults), rates: i.faults.rates, devices: faulted.faults.map(({ kind, target, step }) => ({ kind, target, step })) } };
}

/**
 * One chaos run in the embedded engine, three runs of the seed: the scenario as it is (its
 * expectations dropped), with the device faults (the reference: what the kernel does with its
 * hardware misbehaving), and with the device faults and the infrastructure's (duplicates, hold-backs,
 * crashes drawn by the seeded scheduler, healed three quarters of the way in). The last must end as
 * the reference ends; the reference's new violations are findings.
 */
export async function embeddedChaosRun(i: ChaosRunInput): Promise<ChaosRunResult> {
  const { faulted, bare, chaos } = prepareChaosRun(i);
  const id = `chaos-${i.scenario.name}-${i.policy.preset}-s${i.seed}`;
  const reference = await embeddedReport(id, faulted.scenario, i.policy, i);
  // with no device fault the scenario is the bare one: the same run
  const pristine = faulted.faults.length ? await embeddedReport(id, bare.scenario, i.policy, i) : reference;
  const injected: InjectedFault[] = [];
  const healAt = Math.max(1, Math.floor(reference.run.deliveries * 0.75));
  const { run, report } = await embeddedReport(id, faulted.scenario, i.policy, i, {
    startExtra: { chaos },
    faults: { ...deliveryRates(i.faults), healAt },
    onFault: (f) => injected.push({ kind: KIND[f.kind], target: f.to, seq: f.seq, slot: f.slot, note: f.point ? `${f.jobId}, ${f.point}` : f.jobId }),
  });
  injected.push(...deviceFaultMarks(run.entries, faulted.faults));
  injected.sort((a, b) => a.seq - b.seq);
  const healedAtSeq = injected.filter((f) => f.slot !== undefined).reduce((m, f) => Math.max(m, f.seq), 0);
  const reordered = injected.some((f) => f.kind === 'delay');
  return judge({
    input: i, engine: 'embedded', entries: run.entries, report, reference: reference.report, refEntries: reference.run.entries, pristine: pristine.report,
    injected, devices: faulted.faults, yaml: faulted.yaml, healedAtSeq, replay: replayEntries(run.entries),
    // without a hold-back the scheduler's draws are those of the reference: its log, entry for entry
    identicalTo: reordered ? undefined : isDeepStrictEqual(stripStart(run.entries), stripStart(reference.run.entries)),
  });
}

/** The device faults of a run as injected faults: where the log stood when the orchestrator started each one's step. */
export function deviceFaultMarks(entries: readonly LogEntry[], devices: readonly DeviceFault[]): InjectedFault[] {
  const plan = planOf(entries);
  return devices.map((d) => {
    const at = plan.findIndex((p) => p.phase === 'scenario' && p.scenarioIndex === d.step);
    const started = entries.find((e) => e.component === 'orchestrator' && e.type === 'step.started' && (e.payload as { step?: number }).step === at);
    return { kind: d.kind, target: d.target, seq: started?.seq ?? 0, step: d.step, note: JSON.stringify(d.op) };
  });
}

/**
 * The log as two runs of one schedule (and one run id: each has a log of its own) must share it:
 * without its first entry (run.start carries the chaos parameters the reference does not have).
 */
const stripStart = (es: readonly LogEntry[]) => es.filter((e) => e.seq > 1);
