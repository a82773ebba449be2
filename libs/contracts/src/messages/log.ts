import type { Component } from '../components.js';
import type { Envelope, LogEntry } from '../envelope.js';
import type { EventPayload, EventType, Inputs } from './components.js';

/**
 * The log read with the types the deciders write (issue 9 point 1): an entry of a given component and
 * type has the payload that component's map gives it (`EventPayload<C, K>`, `Inputs[C][K]`), so a
 * checker, the report or the timeline that reads a field a decider no longer writes fails to compile.
 * The log's entries are validated where they are read in (LogEntrySchema: their payload is `unknown`);
 * the guards and `typedEntries` below are the one place the payload is taken to be what the map says.
 * They can be trusted because the log holds only what the deciders returned, typed by the same maps
 * (Decider<S, InputTo<C>, EventOf<...> | Command>).
 */

type Common = Omit<LogEntry, 'kind' | 'component' | 'to' | 'type' | 'payload'>;
type InputType<C extends Component> = keyof Inputs[C] & string;

/** An event entry: what component C recorded, of type K (of each type of K: a union narrows by `type`). */
export type EventEntry<C extends Component = Component, K extends EventType<C> = EventType<C>> = K extends unknown ? Common & {
  kind: 'event'; component: C; to?: undefined; type: K; payload: EventPayload<C, K>;
} : never;
/** An input entry: what component C consumed, the whole envelope (its payload one of C's inputs). */
export type InputEntry<C extends Component = Component, K extends InputType<C> = InputType<C>> = K extends unknown ? Common & {
  kind: 'input'; component: C; to?: undefined; type: K; payload: Omit<Envelope, 'type' | 'payload'> & { type: K; payload: Inputs[C][K] };
} : never;
/** A command entry: what a component sent to component `To` (the entry's `component` is the sender). */
export type CommandEntry<To extends Component = Component, K extends InputType<To> = InputType<To>> = K extends unknown ? Common & {
  kind: 'command'; component: Component; to: To; type: K; payload: Inputs[To][K];
} : never;

/** Every entry the log can hold, as a union its `kind`, `component` (or `to`) and `type` narrow. */
export type TypedEntry = { [C in Component]: EventEntry<C> | InputEntry<C> | CommandEntry<C> }[Component];

/** An event of component C of type K. */
export const isEvent = <C extends Component, K extends EventType<C>>(e: LogEntry, component: C, type: K): e is EventEntry<C, K> =>
  e.kind === 'event' && e.component === component && e.type === type;
/** An input that component C consumed, of type K. */
export const isInput = <C extends Component, K extends InputType<C>>(e: LogEntry, component: C, type: K): e is InputEntry<C, K> =>
  e.kind === 'input' && e.component === component && e.type === type;
/** A command sent to component `to`, of type K. */
export const isCommand = <To extends Component, K extends InputType<To>>(e: LogEntry, to: To, type: K): e is CommandEntry<To, K> =>
  e.kind === 'command' && e.to === to && e.type === type;

/** The log's entries as the union the deciders' maps describe (see above: why this is the one place it is trusted). */
export const typedEntries = (entries: readonly LogEntry[]): readonly TypedEntry[] =>
  // the one cast of the log's readers: a logged payload is what its component's map says (the log holds only what deciders wrote)
  entries as readonly TypedEntry[];
