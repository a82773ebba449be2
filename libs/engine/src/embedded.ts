import { COMPONENTS, type Component, type Envelope, type LogEntry, type ResolvedPolicy } from '../../contracts/src/index.js';
import { gateInput, type RunState } from '../../event-log/src/index.js';
import type { Scenario } from '../../scenario/src/index.js';
import { prng } from './prng.js';
import { initialRuntime, processInput, runStartEnvelope, stepTimeoutEnvelope, type ComponentRuntime } from '../../runtime/src/index.js';

export interface EmbeddedRunOptions {
  runId: string;
  scenario: Scenario;
  policy: ResolvedPolicy;
  seed: number;
  /** called with each batch of entries as it is appended (timeline, export) */
  onEntries?: (entries: LogEntry[]) => void;
  /** safety bound on deliveries */
  maxDeliveries?: number;
  /** hash every state after each input (replay checks it); default true */
  hash?: boolean;
  /**
   * Deliver in this order (ids of input envelopes, e.g. a cluster run's recorded consumption order)
   * instead of drawing from the PRNG: the same scenario and schedule give the same log in both engines.
   */
  schedule?: string[];
}

export interface EmbeddedRun {
  runId: string;
  entries: LogEntry[];
  deliveries: number;
}

/**
 * One process, an in-memory log in the cluster's entry format, the same deciders. Messages travel
 * on FIFO channels, one per (sender, receiver); a seeded scheduler picks which channel delivers next,
 * so a run is a function of (scenario, policy, seed, version).
 *
 * Every delivery goes through the cluster's run-state gate (run-state.ts): the run opens with the
 * orchestrator's run.start, and once run.finished is recorded only recorded commands (the unwinds still
 * on the channels) are consumed; the run ends (closed) when the channels are empty. A schedule that
 * asks for anything else diverges.
 */
export function runEmbedded(o: EmbeddedRunOptions): EmbeddedRun {
  const rand = prng(o.seed);
  const rts = Object.fromEntries(COMPONENTS.map((c) => [c, initialRuntime(c)])) as Record<Component, ComponentRuntime>;
  const channels = new Map<string, Envelope[]>();
  const entries: LogEntry[] = [];
  let state: RunState = 'ready';
  // envelopes no component recorded as a command: the run's start and the orchestrator's timeouts
  const unrecorded = new WeakSet<Envelope>();
  const send = (e: Envelope) => {
    const key = `${e.from}>${e.to}`;
    const q = channels.get(key);
    if (q) q.push(e);
    else channels.set(key, [e]);
  };
  const start = runStartEnvelope(o.runId, { scenario: o.scenario, policy: o.policy, seed: o.seed });
  unrecorded.add(start);
  send(start);
  const max = o.maxDeliveries ?? 1_000_000;
  let deliveries = 0;
  for (;;) {
    if (o.schedule && deliveries >= o.schedule.length) break;
    const ready = [...channels.keys()].filter((k) => channels.get(k)!.length).sort();
    if (o.schedule) {
      const id = o.schedule[deliveries]!;
      let key = ready.find((k) => channels.get(k)![0]!.id === id);
      if (!key && id.startsWith('orch.timeout-')) {
        const timeout = stepTimeoutEnvelope(o.runId, Number(id.slice('orch.timeout-'.length)));
        unrecorded.add(timeout);
        send(timeout);
        key = 'orchestrator>orchestrator';
      }
      if (!key) throw new Error(`schedule diverged at delivery ${deliveries + 1}: ${id} is at the head of no channel`);
      ready.splice(0, ready.length, key);
    }
    if (!ready.length) {
      const orch = rts.orchestrator.state as { finished: boolean; cursor: number; plan: unknown[] };
      if (orch.finished || !orch.plan.length) break;
      // quiescent but unfinished: the step in flight will never complete (the orchestrator's timer fires)
      const timeout = stepTimeoutEnvelope(o.runId, orch.cursor);
      unrecorded.add(timeout);
      send(timeout);
      continue;
    }
    if (++deliveries > max) throw new Error(`embedded run ${o.runId} exceeded ${max} deliveries`);
    const key = ready.length === 1 ? ready[0]! : ready[Math.floor(rand() * ready.length)]!;
    const input = channels.get(key)!.shift()!;
    const r = processInput(input.to, rts[input.to], input, { hash: o.hash });
    const gate = {
      start: input.to === 'orchestrator' && input.type === 'run.start',
      finishes: r.entries.some((e) => e.kind === 'event' && e.type === 'run.finished'),
    };
    // a channel's envelope that a component recorded as a command is its own proof
    const recorded = state === 'draining' && !unrecorded.has(input);
    const verdict = gateInput(state, recorded ? { ...gate, consumes: { seq: 0, eventId: input.id, type: input.type, from: input.from, to: input.to } } : gate, () => recorded);
    if (!verdict.admit) {
      throw new Error(`embedded run ${o.runId}: delivery ${deliveries} (${input.type} ${input.id} to ${input.to}) refused: the run is ${verdict.refusal}`);
    }
    state = verdict.next;
    rts[input.to] = r.next;
    const base = entries.length + 1;
    const batch = r.entries.map((e, k) => ({ ...e, seq: base + k }) as LogEntry);
    // one push per entry: a single input may record tens of thousands (a run of quiesce steps), too many for a spread
    for (const e of batch) entries.push(e);
    o.onEntries?.(batch);
    for (const c of r.commands) send(c);
  }
  return { runId: o.runId, entries, deliveries };
}
