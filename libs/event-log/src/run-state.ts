/**
 * Whether a run's log takes inputs: the gate every data-plane append goes through, atomically with
 * the append (the Lua script in append-once.lua.ts runs this same machine; MemoryRunLog and the
 * embedded engine call `gateInput`).
 *
 *   (none) ──openRun──▶ ready ──run.start consumed──▶ open ──run.finished recorded──▶ draining ──closeRun──▶ closed
 *
 * - none: no run was opened under this id (unknown run, or a run written by import): inputs refused.
 * - ready: the coordinator put the run's meta; only the orchestrator's `run.start` may land.
 * - open: anything the deciders consume lands.
 * - draining: `run.finished` is in the log. Only an input that consumes a command recorded in the log
 *   (proved by the command entry's sequence, checked inside the append) lands: the unwinds in flight.
 * - closed: the coordinator saw the log quiescent after `run.finished` (every recorded command
 *   consumed): nothing lands any more, and the log is final.
 * A redelivered input (its marker exists) is answered with what was recorded in every state.
 */
export type RunState = 'ready' | 'open' | 'draining' | 'closed';

export const RUN_STATES: readonly RunState[] = ['ready', 'open', 'draining', 'closed'];

/**
 * Why an input was refused. `stale`: the appender's memory of the run is behind the log (another
 * process consumed the component's inputs of this run since; its decision was made on an old state).
 */
export type Refusal = 'unknown' | 'not-started' | 'finished' | 'closed' | 'stale';

/** The command entry an input consumes, as the receiver names it: checked against the log's entry at `seq`. */
export interface CommandProof {
  seq: number;
  eventId: string;
  type: string;
  from: string;
  to: string;
}

/** What the appender says about the input it appends (derived from the decision, not from the envelope's claims). */
export interface InputGate {
  /** the orchestrator consuming `run.start` */
  start?: boolean;
  /** the outputs record `run.finished` */
  finishes?: boolean;
  /** the recorded command this input consumes (needed once the run is draining) */
  consumes?: CommandProof;
  /**
   * The component's last input in this run as the appender's memory has it (its seq; 0: none): the
   * append lands only if the log agrees, and records this input as the component's last. Two
   * processes can then never both append decisions made on the same state (a replica paused past its
   * partition's lease, resumed mid-input after another took the partition over).
   */
  after?: { component: string; seq: number };
}

export type GateVerdict = { admit: true; next: RunState } | { admit: false; refusal: Refusal };

/**
 * The gate, pure. `proven`: the log's entry at `gate.consumes.seq` is that command (only looked at
 * when draining).
 */
export function gateInput(state: RunState | undefined, gate: InputGate, proven: () => boolean): GateVerdict {
  switch (state) {
    case undefined:
      return { admit: false, refusal: 'unknown' };
    case 'closed':
      return { admit: false, refusal: 'closed' };
    case 'ready':
      if (!gate.start) return { admit: false, refusal: 'not-started' };
      return { admit: true, next: gate.finishes ? 'draining' : 'open' };
    case 'open':
      return { admit: true, next: gate.finishes ? 'draining' : 'open' };
    case 'draining':
      return gate.consumes && proven() ? { admit: true, next: 'draining' } : { admit: false, refusal: 'finished' };
  }
}

/** A raw append (import, bulk load): refused once the run finished; a log being written by its owner otherwise. */
export function gateRaw(state: RunState | undefined): Refusal | undefined {
  return state === 'draining' ? 'finished' : state === 'closed' ? 'closed' : undefined;
}

/** The order of the states: openRun never moves a run backwards. */
export function stateRank(s: RunState | undefined): number {
  return s === undefined ? -1 : RUN_STATES.indexOf(s);
}

/** A raw append onto a run that finished: the log is closed to it. */
export class RunClosedError extends Error {
  constructor(
    readonly runId: string,
    readonly refusal: Refusal,
  ) {
    super(`run ${runId} is ${refusal === 'closed' ? 'closed' : 'finished'}: its log takes no more entries`);
    this.name = 'RunClosedError';
  }
}

/** Whether the entry stored at the proof's seq is that command. */
export function proves(e: { kind: string; eventId: string; type: string; component: string; to?: string } | undefined, p: CommandProof): boolean {
  return !!e && e.kind === 'command' && e.eventId === p.eventId && e.type === p.type && e.component === p.from && e.to === p.to;
}
