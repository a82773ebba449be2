import { LANE, SCHEMA_VERSION, type Component, type Envelope, type NewLogEntry } from '../../contracts/src/index.js';
import { DECIDERS, type Output } from '../../domain/src/index.js';
import { stateHash } from './state-hash.js';

/** A component's decider state plus what the runtime keeps beside it: its Lamport clock and id counter. */
export interface ComponentRuntime {
  lamport: number;
  /** outputs produced so far: event ids are `<lane>.<n>`, deterministic in consumption order */
  counter: number;
  state: unknown;
  /** per receiver: commands sent to it in the run (the last one's Envelope.chan) */
  sent?: Partial<Record<Component, number>>;
  /** per sender: the chan of the last of its commands consumed */
  got?: Partial<Record<string, number>>;
  /** the component consumed the run's run.open (the orchestrator's word that the run is on: what it opens with) */
  open?: true;
}

export interface Processed {
  next: ComponentRuntime;
  /** the input entry first, then one entry per output */
  entries: NewLogEntry[];
  /** the outputs that are messages to other components, ready to deliver */
  commands: Envelope[];
}

export function initialRuntime(component: Component): ComponentRuntime {
  return { lamport: 0, counter: 0, state: DECIDERS[component].initialState() };
}


function correlationOf(component: Component, input: Envelope, o: Output): string {
  // the orchestrator starts each step: everything that step causes carries the step's correlation id
  const step = o.kind === 'command' && 'step' in o.payload ? o.payload.step : undefined;
  if (component === 'orchestrator' && typeof step === 'number') return `${input.runId}/step-${step}`;
  return input.correlationId;
}

/**
 * Consumes one input: decide, fold the outputs into the state, and turn them into log entries and
 * envelopes. Pure: the same runtime state and input give the same result, in every engine.
 */
export function processInput(component: Component, rt: ComponentRuntime, input: Envelope, opts: { hash?: boolean } = {}): Processed {
  const decider = DECIDERS[component];
  const outputs = decider.decide(rt.state, input);
  let state = rt.state;
  for (const o of outputs) state = decider.evolve(state, o);
  const lamport = Math.max(rt.lamport, input.lamport) + 1;
  const entries: NewLogEntry[] = [{
    runId: input.runId, eventId: `in:${input.id}`, kind: 'input', type: input.type, component,
    causationId: input.id, correlationId: input.correlationId, lamport, payload: input,
    ...(opts.hash === false ? {} : { stateHash: stateHash(state) }), schemaVersion: SCHEMA_VERSION,
  }];
  const commands: Envelope[] = [];
  let sent = rt.sent;
  outputs.forEach((o, k) => {
    const eventId = `${LANE[component]}.${rt.counter + k + 1}`;
    const correlationId = correlationOf(component, input, o);
    const l = lamport + k + 1;
    if (o.kind !== 'command') {
      entries.push({ runId: input.runId, eventId, kind: o.kind, type: o.type, component, causationId: input.id, correlationId, lamport: l, payload: o.payload, schemaVersion: SCHEMA_VERSION });
      return;
    }
    const chan = (sent?.[o.to] ?? 0) + 1;
    sent = { ...sent, [o.to]: chan };
    entries.push({ runId: input.runId, eventId, kind: o.kind, type: o.type, component, to: o.to, causationId: input.id, correlationId, lamport: l, chan, payload: o.payload, schemaVersion: SCHEMA_VERSION });
    commands.push({ runId: input.runId, id: eventId, type: o.type, from: component, to: o.to, causationId: input.id, correlationId, lamport: l, chan, payload: o.payload });
  });
  const got = input.chan === undefined ? rt.got : { ...rt.got, [input.from]: input.chan };
  const open = rt.open || input.type === RUN_OPEN;
  return { next: { lamport: lamport + outputs.length, counter: rt.counter + outputs.length, state, ...(sent ? { sent } : {}), ...(got ? { got } : {}), ...(open ? { open: true as const } : {}) }, entries, commands };
}

/** The envelopes recorded as commands among a batch of entries (to re-send after a redelivery). */
export function commandsOf(entries: Array<NewLogEntry & { seq?: number }>): Envelope[] {
  return entries
    .filter((e) => e.kind === 'command')
    .map((e) => ({ runId: e.runId, id: e.eventId, type: e.type, from: e.component, to: e.to!, causationId: e.causationId, correlationId: e.correlationId, lamport: e.lamport, ...(e.chan === undefined ? {} : { chan: e.chan }), payload: e.payload }));
}

const RUN_OPEN = 'run.open';

/**
 * Where an input stands for a component whose runtime is `rt`: `next` to consume;
 * `early` when a command its sender sent before it has not been consumed yet (it waits: the receiver
 * consumes a channel in the order it was sent); `late` when one with its place was consumed (a
 * redelivery: its marker answers it). An input with no place (the run's start, a timer) is `next`.
 * Across channels, one order matters to every component but the orchestrator: its run.open first. The
 * orchestrator sends it to all four at once, so another component's command can overtake a held-back
 * one; until its run.open is in, a component takes nothing else of the run (`early`).
 */
export function channelOrder(component: Component, rt: ComponentRuntime, input: Envelope): 'next' | 'early' | 'late' {
  if (component !== 'orchestrator' && !rt.open && input.type !== RUN_OPEN) return 'early';
  if (input.chan === undefined) return 'next';
  const last = rt.got?.[input.from] ?? 0;
  return input.chan === last + 1 ? 'next' : input.chan > last + 1 ? 'early' : 'late';
}

/** The envelope that starts a run: the CLI's request to the orchestrator. */
export function runStartEnvelope(runId: string, payload: Record<string, unknown>): Envelope {
  return { runId, id: 'cli.start', type: 'run.start', from: 'cli', to: 'orchestrator', causationId: null, correlationId: runId, lamport: 0, payload };
}

/** The orchestrator's own timer: a step that saw no completion in time. */
export function stepTimeoutEnvelope(runId: string, step: number): Envelope {
  return { runId, id: `orch.timeout-${step}`, type: 'step.timeout', from: 'orchestrator', to: 'orchestrator', causationId: null, correlationId: `${runId}/step-${step}`, lamport: 0, payload: { step } };
}
