import { COMPONENTS, type Component, type Envelope, type LogEntry, type ResolvedPolicy } from '../../contracts/src/index.js';
import { MemorySnapshotStore } from '../../event-log/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import { ComponentHost, rebuildRuntime, runStartEnvelope, stepTimeoutEnvelope, type ComponentHostOptions } from '../../runtime/src/index.js';
import { ChannelQueue } from './channel-queue.js';
import { ComponentCrash, CrashSwitch, CrashableRunLog, crashableOutbox } from './crash.js';
import { FaultPlan, noFaults, type CrashPoint, type FaultCounts, type FaultOptions } from './faults.js';
import { prng } from './prng.js';

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
  /** faults the scheduler fires from the seed (faults.ts); none by default */
  faults?: FaultOptions;
  /** a component's snapshot every this many log entries (ComponentHostOptions.snapshotEvery) */
  snapshotEvery?: number;
}

export interface EmbeddedRun {
  runId: string;
  entries: LogEntry[];
  /** jobs delivered (a duplicate or a crash's redelivery is the same job) */
  deliveries: number;
  /** the faults that fired, per kind */
  faults: FaultCounts;
  /** what the hosts and the queue did about them */
  stats: { duplicates: number; rebuilds: number; snapshotsLoaded: number; snapshotsWritten: number; dropped: number };
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
  const outbox = crashableOutbox(queue, crash);
  // no wall clock on the entries, and no schema parse of envelopes that never left this process
  const hostOpts: ComponentHostOptions = { snapshots: new MemorySnapshotStore(), snapshotEvery: o.snapshotEvery, hash: o.hash, clock: () => undefined, builtInProcess: true };
  let shown = 0;
  // a redelivery's host emits the entries recorded the first time: the caller sees each entry once
  const onEntries = o.onEntries && ((es: LogEntry[]) => {
    if (!es.length || es[0]!.seq <= shown) return;
    shown = es[es.length - 1]!.seq;
    o.onEntries!(es);
  });
  const booted: ComponentHost[] = [];
  const boot = (c: Component) => {
    const h = new ComponentHost(c, log, outbox, hostOpts);
    if (onEntries) h.on('entries', onEntries);
    booted.push(h);
    return h;
  };
  const hosts = Object.fromEntries(COMPONENTS.map((c) => [c, boot(c)])) as Record<Component, ComponentHost>;

  const deliver = async (input: Envelope, crashAt?: CrashPoint) => {
    let host = hosts[input.to];
    let dead = host.stats.deadLetters;
    crash.armed = crashAt;
    try {
      await host.deliver(input);
    } catch (err) {
      if (!(err instanceof ComponentCrash)) throw err;
      counts.crash[err.point]++;
      // the process died with its memory; its successor rebuilds the run from the snapshot and the
      // log, and the job, never acknowledged, is delivered to it again
      host = hosts[input.to] = boot(input.to);
      dead = 0;
      await host.deliver(input);
    } finally {
      crash.armed = undefined;
    }
    if (host.stats.deadLetters > dead) {
      const reason = (await log.readDeadLetters(runId)).at(-1)?.reason;
      throw new Error(`embedded run ${runId}: ${input.type} ${input.id} to ${input.to} refused: ${reason}`);
    }
  };

  await log.putRunMeta({ runId, scenario: { name: o.scenario.name }, policy: o.policy, seed: o.seed, engine: 'embedded', startedAt: 0, status: 'running' });
  await log.openRun(runId, 'ready');
  queue.add(runStartEnvelope(runId, { scenario: o.scenario, policy: o.policy, seed: o.seed }));

  const max = o.maxDeliveries ?? 1_000_000;
  /** held-back jobs, back on their channel once `at` slots were taken */
  const held: Array<{ job: Envelope; at: number }> = [];
  let slots = 0;
  let deliveries = 0;
  for (;;) {
    if (o.schedule && deliveries >= o.schedule.length) break;
    for (let k = 0; k < held.length; ) {
      if (held[k]!.at <= slots) queue.requeue(held.splice(k, 1)[0]!.job);
      else k++;
    }
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
      if (held.length) {
        // nothing else to do: the soonest retry is due
        let k = 0;
        for (let j = 1; j < held.length; j++) if (held[j]!.at < held[k]!.at) k = j;
        queue.requeue(held.splice(k, 1)[0]!.job);
        continue;
      }
      const rt = hosts.orchestrator.runtimeOf(runId) ?? (await rebuildRuntime('orchestrator', log, runId)).runtime;
      const orch = rt.state as { finished: boolean; cursor: number; plan: unknown[] };
      if (orch.finished || !orch.plan.length) break;
      // quiescent but unfinished: the step in flight will never complete (the orchestrator's timer fires)
      if (!queue.add(stepTimeoutEnvelope(runId, orch.cursor))) throw new Error(`embedded run ${runId}: step ${orch.cursor} timed out twice`);
      continue;
    } else {
      i = queue.ready.length === 1 ? 0 : Math.floor(rand() * queue.ready.length);
    }
    if (++slots > max) throw new Error(`embedded run ${runId} exceeded ${max} deliveries`);
    const job = queue.take(i);
    const f = plan.any ? plan.forSlot(slots) : undefined;
    if (f?.holdBack) {
      counts.holdBack++;
      held.push({ job, at: slots + f.holdFor });
      continue;
    }
    deliveries++;
    await deliver(job, f?.crash);
    if (f?.duplicate) {
      counts.duplicate++;
      await deliver(job);
    }
  }
  await log.closeRun(runId);
  await log.putRunMeta({ runId, scenario: { name: o.scenario.name }, policy: o.policy, seed: o.seed, engine: 'embedded', startedAt: 0, status: 'finished' });
  const stats = { duplicates: 0, rebuilds: 0, snapshotsLoaded: 0, snapshotsWritten: 0, dropped: queue.stats.dropped };
  for (const h of booted) {
    stats.duplicates += h.stats.duplicates;
    stats.rebuilds += h.stats.rebuilds;
    stats.snapshotsLoaded += h.stats.snapshotsLoaded;
    stats.snapshotsWritten += h.stats.snapshotsWritten;
  }
  return { runId, entries: log.readSync(runId), deliveries, faults: counts, stats };
}
