import { COMPONENTS, type Component, type Envelope, type LogEntry, type ResolvedPolicy } from '../../contracts/src/index.js';
import type { Scenario } from '../../scenario/src/schema.js';
import { prng } from './prng.js';
import { initialRuntime, processInput, runStartEnvelope, stepTimeoutEnvelope, type ComponentRuntime } from './runtime.js';

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
 */
export function runEmbedded(o: EmbeddedRunOptions): EmbeddedRun {
  const rand = prng(o.seed);
  const rts = Object.fromEntries(COMPONENTS.map((c) => [c, initialRuntime(c)])) as Record<Component, ComponentRuntime>;
  const channels = new Map<string, Envelope[]>();
  const entries: LogEntry[] = [];
  const send = (e: Envelope) => {
    const key = `${e.from}>${e.to}`;
    const q = channels.get(key);
    if (q) q.push(e);
    else channels.set(key, [e]);
  };
  send(runStartEnvelope(o.runId, { scenario: o.scenario, policy: o.policy, seed: o.seed }));
  const max = o.maxDeliveries ?? 1_000_000;
  let deliveries = 0;
  for (;;) {
    if (o.schedule && deliveries >= o.schedule.length) break;
    const ready = [...channels.keys()].filter((k) => channels.get(k)!.length).sort();
    if (o.schedule) {
      const id = o.schedule[deliveries]!;
      let key = ready.find((k) => channels.get(k)![0]!.id === id);
      if (!key && id.startsWith('orch.timeout-')) {
        send(stepTimeoutEnvelope(o.runId, Number(id.slice('orch.timeout-'.length))));
        key = 'orchestrator>orchestrator';
      }
      if (!key) throw new Error(`schedule diverged at delivery ${deliveries + 1}: ${id} is at the head of no channel`);
      ready.splice(0, ready.length, key);
    }
    if (!ready.length) {
      const orch = rts.orchestrator.state as { finished: boolean; cursor: number; plan: unknown[] };
      if (orch.finished || !orch.plan.length) break;
      // quiescent but unfinished: the step in flight will never complete (the orchestrator's timer fires)
      send(stepTimeoutEnvelope(o.runId, orch.cursor));
      continue;
    }
    if (++deliveries > max) throw new Error(`embedded run ${o.runId} exceeded ${max} deliveries`);
    const key = ready.length === 1 ? ready[0]! : ready[Math.floor(rand() * ready.length)]!;
    const input = channels.get(key)!.shift()!;
    const r = processInput(input.to, rts[input.to], input, { hash: o.hash });
    rts[input.to] = r.next;
    const base = entries.length + 1;
    const batch = r.entries.map((e, k) => ({ ...e, seq: base + k }) as LogEntry);
    entries.push(...batch);
    o.onEntries?.(batch);
    for (const c of r.commands) send(c);
  }
  return { runId: o.runId, entries, deliveries };
}
