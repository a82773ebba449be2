import type { Command, Component, Envelope, EventOf, Inputs, MessageMap, Ret } from '../../contracts/src/index.js';

export type { Command, Ret };

/** Something a component recorded about itself (evolves its state). Untyped form, for the runtime. */
export interface EventOut {
  kind: 'event';
  type: string;
  payload: object;
}
/** What a decider returns, as the runtime sees it: events and commands. */
export type Output = EventOut | Command;

/**
 * A pure component (DESIGN.md §2.1): no I/O, clock or randomness. `decide` answers one consumed
 * input with outputs; `evolve` folds each output into the state (commands usually leave it alone).
 * Typed by its inputs `In` (libs/contracts: the component's input map, InputTo<C>) and its outputs
 * `Out` (its events, EventOf<its event map>, and the commands it sends, Command).
 */
export interface Decider<S, In extends Envelope | { type: string; payload: object } = Envelope, Out extends Output = Output> {
  component: Component;
  initialState(): S;
  decide(state: S, input: In): Out[];
  evolve(state: S, out: Out): S;
}

/** The event constructor of one component: `evt('svm.bound', {...})` checked against its event map. */
export const eventsOf = <M extends MessageMap>() => <K extends keyof M & string>(type: K, payload: M[K]): EventOf<M> =>
  // the mapped union EventOf<M> is not narrowed by a generic K; this object is exactly its member K
  ({ kind: 'event', type, payload }) as EventOf<M>;

/** A command to another component, checked against that component's input map. */
export const cmd = <C extends Component, K extends keyof Inputs[C] & string>(to: C, type: K, payload: Inputs[C][K]): Command =>
  // as in eventsOf: a member of the mapped union for this C and K
  ({ kind: 'command', to, type, payload }) as unknown as Command;

export function foldOutputs<S, O extends Output>(d: Decider<S, never, O>, state: S, outs: O[]): S {
  let s = state;
  for (const o of outs) s = d.evolve(s, o);
  return s;
}

/** Copy-on-write helpers: the state is never mutated in place. */
export function put<T>(rec: Record<string, T>, key: string | number, val: T): Record<string, T> {
  return { ...rec, [key]: val };
}
export function drop<T>(rec: Record<string, T>, key: string | number): Record<string, T> {
  const { [key]: _gone, ...rest } = rec;
  return rest;
}
