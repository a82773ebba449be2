import { isDeepStrictEqual } from 'node:util';
import type { Envelope, LogEntry } from '../../../../libs/contracts/src/index.js';
import {
  deviceFaultMarks, drawSchedule, embeddedReport, judge, NEMESIS_KINDS, prepareChaosRun,
  type ChaosRunInput, type ChaosRunResult, type InjectedFault, type NemesisKind, type NemesisSchedule,
} from '../../../../libs/chaos/src/index.js';
import { replayEntries } from '../../../../libs/engine/src/index.js';
import type { ChaosCluster } from './cluster-chaos.js';

export interface ClusterChaosResult extends ChaosRunResult {
  schedule: NemesisSchedule;
  runId: string;
  /** the schedule's actions the run ended before reaching */
  missed: number;
}

/**
 * The log as two runs of one schedule share it: no run.start (its payload is the CLI's), no wall clock,
 * and as JSON (what crossed Redis has no undefined fields; what the embedded engine built in memory may).
 */
const comparable = (es: readonly LogEntry[]) => es.filter((e) => e.seq > 1).map(({ ts: _ts, ...e }) => JSON.stringify(e));

/**
 * One chaos run on the cluster (issue 11): the nemesis acts on the processes and Redis at the log
 * positions of its schedule (drawn from the seed, or given), heals, and the run must complete. The
 * reference is the embedded engine driven by the order the cluster consumed its inputs in, without a
 * fault: the same deciders over the same interleaving must write the same log, entry for entry (the
 * differential test's property, under faults), so anything the processes and Redis lost, doubled or
 * changed shows.
 */
export async function clusterChaosRun(cluster: ChaosCluster, i: ChaosRunInput & { runId: string }, o: { stepTimeoutMs: number; schedule?: NemesisSchedule; onFault?: (f: InjectedFault) => void }): Promise<ClusterChaosResult> {
  const { faulted, bare, chaos } = prepareChaosRun(i);
  const expected = await embeddedReport(i.runId, faulted.scenario, i.policy, i);
  // with no device fault the scenario is the bare one: the same run
  const pristine = faulted.faults.length ? await embeddedReport(i.runId, bare.scenario, i.policy, i) : expected;
  const rates: Partial<Record<NemesisKind, number>> = {};
  const once: NemesisKind[] = [];
  for (const k of NEMESIS_KINDS) {
    const r = i.faults.rates[k];
    if (r === 'once') once.push(k);
    else if (typeof r === 'number') rates[k] = r;
  }
  const schedule = o.schedule ?? drawSchedule(i.seed, rates, { entries: expected.run.entries.length, atLeastOnce: once });
  const run = await cluster.run({ runId: i.runId, scenario: faulted.scenario, file: i.file, policy: i.policy, seed: i.seed, stepTimeoutMs: o.stepTimeoutMs, reproduce: i.reproduce, chaos }, schedule, o.onFault);
  const order = run.entries.filter((e) => e.kind === 'input').map((e) => (e.payload as Envelope).id);
  let reference = expected;
  let followed = true;
  try {
    reference = await embeddedReport(i.runId, faulted.scenario, i.policy, i, { schedule: order, startExtra: { chaos } });
  } catch {
    // an order the deciders cannot follow: judged against the seed's own run, and said below
    followed = false;
  }
  const injected = [...run.injected, ...deviceFaultMarks(run.entries, faulted.faults)].sort((a, b) => a.seq - b.seq);
  const r = judge({
    input: i, engine: 'cluster', entries: run.entries, report: run.report, reference: reference.report, refEntries: reference.run.entries,
    pristine: pristine.report, injected, devices: faulted.faults, yaml: faulted.yaml, healedAtSeq: run.healed.atSeq, replay: replayEntries(run.entries),
    identicalTo: followed && isDeepStrictEqual(comparable(run.entries), comparable(reference.run.entries)),
  });
  if (!followed) r.differences.push('the embedded engine could not follow the order the cluster consumed its inputs in');
  // liveness: healed, the run must have completed
  r.phases.liveness.completed &&= run.completed;
  if (!run.completed) r.differences.push('the run did not complete once the faults were healed');
  r.ok = r.ok && run.completed && followed;
  return { ...r, schedule, runId: i.runId, missed: run.missed.length };
}

