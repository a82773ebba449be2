import type { LogEntry, ResolvedPolicy } from '../../contracts/src/index.js';
import { MemorySnapshotStore } from '../../event-log/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import { rebuildRuntime, runStartEnvelope, stepTimeoutEnvelope, type ComponentHostOptions } from '../../runtime/src/index.js';
import { ChannelQueue } from './channel-queue.js';
import { CrashSwitch, CrashableRunLog, crashableOutbox } from './crash.js';
import { FaultPlan, noFaults, type CrashPoint, type FaultCounts, type FaultOptions } from './faults.js';
import { prng } from './prng.js';
import { SimHosts, type HostStats } from './sim-hosts.js';

export interface EmbeddedRunOptions {
  runId: string;
  scenario: Scenario;
  policy: ResolvedPolicy;
  seed: number;
  /** called with each batch of entries as it is appended (timeline, export) */
  onEntries?: (entries: LogEntry[]) => void;
  /** safety bound on the jobs the scheduler takes */
  maxDeliveries?: number;
  /** hash every state after each input (replay checks it); default true */
  hash?: boolean;
  /**
   * Deliver in this order (ids of input envelopes, e.g. a cluster run's recorded consumption order)
   * instead of drawing from the PRNG: the same scenario and schedule give the same log in both engines.
   */
  schedule?: string[];
  /**
   * How often the scheduler takes the first ready channel (in channel-key order) instead of a random
   * one (0..1): 1 is the default order, the same for every seed; 0 or absent a uniform draw. Exploration
   * draws it per run; shrinking moves it toward 1 (fewer deviations from the default order).
   */
  bias?: number;
  /** faults the scheduler fires from the seed (faults.ts); none by default */
  faults?: FaultOptions;
  /** a component's snapshot every this many log entries (ComponentHostOptions.snapshotEvery) */
  snapshotEvery?: number;
  /** each fault as it fires (chaos reports them, with where the log stood) */
  onFault?: (f: FiredFault) => void;
  /** what the run was started with beyond scenario, policy and seed (a chaos run's faults): recorded in run.start */
  startExtra?: Record<string, unknown>;
}

/** A fault the scheduler fired: on which job, at which slot, with the log at `seq` entries. */
export interface FiredFault {
  kind: 'duplicate' | 'holdBack' | 'crash';
  slot: number;
  /** the job's receiver and id */
  to: string;
  jobId: string;
  seq: number;
  point?: CrashPoint;
}

export interface EmbeddedRun {
  runId: string;
  entries: LogEntry[];
  /** jobs delivered (a duplicate or a crash's redelivery is the same job) */
  deliveries: number;
  /** the faults that fired, per kind */
  faults: FaultCounts;
  /** what the hosts and the queue did about them */
  stats: HostStats & { dropped: number };
}

/**
 * One process running what the services run: a ComponentHost per component (validate, decide, the
 * append-once with its marker and the run-state gate, the outbox) over in-memory fakes the seed
 * controls, as a deterministic simulation runs the real code over a simulated network and disk
 * (STYLE.md): the memory log, a memory snapshot store, and a queue of FIFO channels, one per
 * (sender, receiver). The seeded scheduler takes every job and fires every timer, so a run is a
 * function of (scenario, policy, seed, version).
 *
 * The run is opened as the cluster's RunCoordinator opens it: its meta put and its log ready for the
 * orchestrator's run.start; the log's own gate opens it, drains it once run.finished is recorded, and
 * the run is closed when the channels are empty. An input the gate refuses (a schedule asking for what
 * the run does not allow) ends the run with the host's reason.
 *
 * Faults (faults.ts) draw from a stream of their own. A duplicate and a crash's redelivery are handled
 * in the slot of the job they befall, so with those two on the scheduler's draws, and the log, are the
 * same as without; a hold-back moves the job behind later ones, and the interleaving changes.
 */
export async function runEmbedded(o: EmbeddedRunOptions): Promise<EmbeddedRun> {
  const { runId } = o;
  const rand = prng(o.seed);
  const plan = new FaultPlan(o.seed, o.faults);
  if (o.schedule && plan.reorders) throw new Error('faults.holdBack reorders jobs: a run that follows a schedule cannot hold one back');
  const counts = noFaults();
  const crash = new CrashSwitch();
  const log = new CrashableRunLog(crash);
  const queue = new ChannelQueue();
  // no wall clock on the entries, and no schema parse of envelopes that never left this process
  const hostOpts: ComponentHostOptions = { snapshots: new MemorySnapshotStore(), snapshotEvery: o.snapshotEvery, hash: o.hash, clock: () => undefined, builtInProcess: true };
  let seq = 0;
  const shown = o.onFault ? (es: LogEntry[]) => ((seq = es[es.length - 1]!.seq), o.onEntries?.(es)) : o.onEntries;
  const hosts = new SimHosts(runId, log, crashableOutbox(queue, crash), crash, hostOpts, counts, shown);
  const fired = (kind: FiredFault['kind'], job: { to: string; id: string }, point?: CrashPoint) =>
    o.onFault?.({ kind, slot: slots, to: job.to, jobId: job.id, seq, ...(point ? { point } : {}) });

  await log.putRunMeta({ runId, scenario: { name: o.scenario.name }, policy: o.policy, seed: o.seed, engine: 'embedded', startedAt: 0, status: 'running' });
  await log.openRun(runId, 'ready');
  queue.add(runStartEnvelope(runId, { scenario: o.scenario, policy: o.policy, seed: o.seed, ...o.startExtra }));

  const max = o.maxDeliveries ?? 1_000_000;
  let slots = 0;
  let deliveries = 0;
  for (;;) {
    if (o.schedule && deliveries >= o.schedule.length) break;
    queue.promote(slots);
    let i: number;
    if (o.schedule) {
      const id = o.schedule[deliveries]!;
      i = queue.headOf(id);
      if (i < 0 && id.startsWith('orch.timeout-')) {
        queue.add(stepTimeoutEnvelope(runId, Number(id.slice('orch.timeout-'.length))));
        i = queue.headOf(id);
      }
      if (i < 0) throw new Error(`schedule diverged at delivery ${deliveries + 1}: ${id} is at the head of no channel`);
    } else if (!queue.ready.length) {
      if (queue.promoteSoonest()) continue;
      const rt = hosts.runtimeOf('orchestrator') ?? (await rebuildRuntime('orchestrator', log, runId)).runtime;
      const orch = rt.state as { finished: boolean; cursor: number; plan: unknown[] };
      if (orch.finished || !orch.plan.length) break;
      // quiescent but unfinished: the step in flight will never complete (the orchestrator's timer fires)
      if (!queue.add(stepTimeoutEnvelope(runId, orch.cursor))) throw new Error(`embedded run ${runId}: step ${orch.cursor} timed out twice`);
      continue;
    } else {
      i = queue.ready.length === 1 ? 0 : o.bias !== undefined && rand() < o.bias ? 0 : Math.floor(rand() * queue.ready.length);
    }
    if (++slots > max) throw new Error(`embedded run ${runId} exceeded ${max} deliveries`);
    const job = queue.take(i);
    const f = plan.any ? plan.forSlot(slots) : undefined;
    if (f?.holdBack) {
      counts.holdBack++;
      fired('holdBack', job);
      queue.delay(job, slots + f.holdFor);
      continue;
    }
    const crashes = f?.crash ? counts.crash[f.crash] : 0;
    const delivered = await hosts.deliver(job, f?.crash);
    // a crash armed for a delivery that was put off never fired
    if (f?.crash && counts.crash[f.crash] > crashes) fired('crash', job, f.crash);
    if (delivered === 'deferred') {
      // handed out again once another delivery is done, as BullMQ's delayed set would after its backoff
      queue.defer(job);
      continue;
    }
    queue.progress(slots);
    deliveries++;
    if (f?.duplicate) {
      counts.duplicate++;
      fired('duplicate', job);
      await hosts.deliver(job);
    }
  }
  await log.closeRun(runId);
  await log.putRunMeta({ runId, scenario: { name: o.scenario.name }, policy: o.policy, seed: o.seed, engine: 'embedded', startedAt: 0, status: 'finished' });
  return { runId, entries: log.readSync(runId), deliveries, faults: counts, stats: { ...hosts.stats(), dropped: queue.stats.dropped } };
}
