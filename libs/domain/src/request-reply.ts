import type { CallEvents, Component, EventOf, Outcome, Ret } from '../../contracts/src/index.js';
import type { Command } from './decider.js';

/**
 * The one request/reply vocabulary of the deciders (DESIGN.md §2.1). A component that needs another's
 * answer before it can go on sends a request tagged with the id of the input it is handling, and
 * records `call.parked` with what it will do with the answer (its continuation). The reply,
 * `<request type>.ret`, echoes the tag; the component records `call.resumed` and goes on. Whoever
 * asked it is its `Caller`: another component (answered with `<type>.ret`) or the orchestrator
 * running a scenario step (answered with `step.completed`).
 */

/** Who is waiting for a component's answer. */
export type Caller =
  | { kind: 'step'; step: number }
  | { kind: 'call'; to: Component; type: string; re: string; tag: string | null; noreply: boolean };

/** The parts of an input a caller is read from. */
interface Asked {
  id: string;
  type: string;
  from: Component | 'cli';
  payload: object;
}

const field = (p: object, k: string): unknown => (k in p ? Reflect.get(p, k) : undefined);

/** A scenario step (the orchestrator sent it with its plan index) or a call from another component. */
export function callerOf(input: Asked): Caller {
  const step = field(input.payload, 'step');
  if (input.from === 'orchestrator' && typeof step === 'number') return { kind: 'step', step };
  if (input.from === 'cli') throw new Error(`the CLI cannot call a decider (${input.type})`);
  const tag = field(input.payload, 'tag');
  return { kind: 'call', to: input.from, type: input.type, re: input.id, tag: typeof tag === 'string' ? tag : null, noreply: field(input.payload, 'noreply') === true };
}

/** The scenario step `step` ended with `outcome`. */
export const completeStep = (step: number, outcome: Outcome): Command => ({ kind: 'command', to: 'orchestrator', type: 'step.completed', payload: { step, outcome } });

/** Answer a caller: complete its step, or reply `<type>.ret` unless it said it will not wait. */
export function answer(caller: Caller, r: Ret): Command[] {
  if (caller.kind === 'step') return [completeStep(caller.step, r)];
  if (caller.noreply) return [];
  // the reply's type is derived from the request's: every `<request>.ret` is in the requester's input map (repliesTo)
  return [{ kind: 'command', to: caller.to, type: `${caller.type}.ret`, payload: { re: caller.re, tag: caller.tag, ...r } } as unknown as Command];
}

/** Answer the input being handled now. */
export const reply = (input: Asked, r: Ret): Command[] => answer(callerOf(input), r);

/** Park a continuation until the reply to the request tagged `tag` comes (the tag is the id of the input handled now). */
export const parked = <W>(tag: string, continuation: W): EventOf<CallEvents<W>> => ({ kind: 'event', type: 'call.parked', payload: { tag, continuation } });
/** The reply to `tag` came: its continuation runs now. */
export const resumed = <W = never>(tag: string): EventOf<CallEvents<W>> => ({ kind: 'event', type: 'call.resumed', payload: { tag } });

/** A component's parked continuations, by tag, after one of the two events (its evolve calls this for both). */
export function evolveCalls<W>(calls: Record<string, W>, e: EventOf<CallEvents<W>>): Record<string, W> {
  switch (e.type) {
    case 'call.parked':
      return { ...calls, [e.payload.tag]: e.payload.continuation };
    case 'call.resumed': {
      const { [e.payload.tag]: _done, ...rest } = calls;
      return rest;
    }
  }
}
