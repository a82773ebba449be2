import type { Component } from '../components.js';
import { GuestViommuInputSchemas, type GuestViommuEvents, type GuestViommuInputs } from './guest-viommu.js';
import { HostVtdInputSchemas, type HostVtdEvents, type HostVtdInputs } from './host-vtd.js';
import { MdevParentInputSchemas, type MdevParentEvents, type MdevParentInputs } from './mdev-parent.js';
import type { InputOf, MessageMap, SchemaMap } from './message.js';
import { OrchestratorInputSchemas, type OrchestratorEvents, type OrchestratorInputs } from './orchestrator.js';
import { VfioType1InputSchemas, type VfioType1Events, type VfioType1Inputs } from './vfio-type1.js';

/** Every component's inputs, by component: what may be sent to it. */
export interface Inputs {
  orchestrator: OrchestratorInputs;
  'guest-viommu': GuestViommuInputs;
  'vfio-type1': VfioType1Inputs;
  'mdev-parent': MdevParentInputs;
  'host-vtd': HostVtdInputs;
}

/** The schemas of every component's inputs: what a host checks a delivered payload against. */
export const INPUT_SCHEMAS: { [C in Component]: SchemaMap } = {
  orchestrator: OrchestratorInputSchemas,
  'guest-viommu': GuestViommuInputSchemas,
  'vfio-type1': VfioType1InputSchemas,
  'mdev-parent': MdevParentInputSchemas,
  'host-vtd': HostVtdInputSchemas,
};

/**
 * Every component's events, by component. The continuations a component parks (`call.parked`) are
 * its own business: the maps take their type as a parameter (the domain's state types); a reader
 * of the log that does not resume them (a checker) sees `unknown`.
 */
export interface Events {
  orchestrator: OrchestratorEvents;
  'guest-viommu': GuestViommuEvents;
  'vfio-type1': VfioType1Events;
  'mdev-parent': MdevParentEvents;
  'host-vtd': HostVtdEvents;
}

/** An input of component C, typed by its type. */
export type InputTo<C extends Component> = InputOf<Inputs[C]>;

/** A command to component C: one of its inputs, before the runtime makes it an envelope. */
export type CommandTo<C extends Component> = {
  [K in keyof Inputs[C] & string]: { kind: 'command'; to: C; type: K; payload: Inputs[C][K] };
}[keyof Inputs[C] & string];
export type Command = { [C in Component]: CommandTo<C> }[Component];

/** The type of an event of component C, and its payload. */
export type EventType<C extends Component> = keyof Events[C] & string;
export type EventPayload<C extends Component, K extends EventType<C>> = Events[C][K] extends object ? Events[C][K] : never;

export type { MessageMap };
