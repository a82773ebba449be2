import type { Component, Envelope } from '../../contracts/src/index.js';

/** Something a component recorded about itself (evolves its state). */
export interface EventOut {
  kind: 'event';
  type: string;
  payload: Record<string, unknown>;
}
/** A message to another component (recorded, then delivered). */
export interface CommandOut {
  kind: 'command';
  to: Component;
  type: string;
  payload: Record<string, unknown>;
}
export type Output = EventOut | CommandOut;

/**
 * A pure component (DESIGN.md §2.1): no I/O, clock or randomness. `decide` answers one consumed
 * input with outputs; `evolve` folds each output into the state (commands usually leave it alone).
 */
export interface Decider<S> {
  component: Component;
  initialState(): S;
  decide(state: S, input: Envelope): Output[];
  evolve(state: S, out: Output): S;
}

export const evt = (type: string, payload: Record<string, unknown> = {}): EventOut => ({ kind: 'event', type, payload });
export const cmd = (to: Component, type: string, payload: Record<string, unknown> = {}): CommandOut => ({ kind: 'command', to, type, payload });

/** What a call returned: the kernel's convention, 0/positive or -errno; `oops` when the host died in it. */
export interface Ret {
  ret: number;
  value?: unknown;
  /** the host driver function that dereferenced a NULL or freed object */
  oops?: string;
  /** what else the callee reports (e.g. how many entries it processed) */
  detail?: Record<string, unknown>;
}

/**
 * The reply to a request: type `<request type>.ret`, sent back to the requester. `re` is the
 * request's id; `tag` echoes the tag the requester put in the request to find its continuation.
 */
export function reply(input: Envelope, r: Ret): CommandOut {
  if (input.from === 'cli') throw new Error(`cannot reply to the CLI from a decider (${input.type})`);
  const tag = (input.payload as { tag?: unknown } | null)?.tag ?? null;
  return cmd(input.from, `${input.type}.ret`, { re: input.id, tag, ...r });
}

/** A request that expects a reply; `tag` finds the requester's continuation when the reply comes. */
export function request(to: Component, type: string, tag: string, payload: Record<string, unknown>): CommandOut {
  return cmd(to, type, { ...payload, tag });
}

export function foldOutputs<S>(d: Decider<S>, state: S, outs: Output[]): S {
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
