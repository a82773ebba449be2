// Placeholder maps while each component's events are typed (issue 9): an index signature accepts any event.
type Loose = { [type: string]: Record<string, unknown> };
export type OrchestratorEvents = Loose;
export type GuestViommuEvents = Loose;
export type VfioType1Events = Loose;
export type MdevParentEvents = Loose;
export type HostVtdEvents = Loose;
