import type { Component, Envelope } from '../../contracts/src/index.js';
import type { Decider, Output } from './decider.js';
import { guestViommuDecider } from './guest-viommu/decider.js';
import { hostVtdDecider } from './host-vtd/decider.js';
import { mdevParentDecider } from './mdev-parent/decider.js';
import { orchestratorDecider } from './orchestrator/decider.js';
import { vfioType1Decider } from './vfio-type1/decider.js';

export * from './decider.js';
export * from './request-reply.js';
export * from './outcome.js';
export * from './topology.js';
export { planRun, type PlannedStep } from './orchestrator/plan.js';
export type { RunStart } from './orchestrator/decider.js';
// each component's state, for what shows a run's state at a point (the dashboard's run page)
export type { OrchestratorState } from './orchestrator/state.js';
export type { GuestViommuState } from './guest-viommu/state.js';
export type { VfioState } from './vfio-type1/state.js';
export type { MdevParentState } from './mdev-parent/state.js';
export type { HostVtdState } from './host-vtd/state.js';

/**
 * The runtime's view of a decider: any envelope in, any output out. A delivered envelope is checked
 * against its receiver's input schemas where it enters (ComponentHost), so the typed decider can take it.
 */
export type AnyDecider = Decider<unknown, Envelope, Output>;
// the one erasure of a decider's types, for the registry the runtime indexes by component
const erase = <S, In extends Envelope | { type: string; payload: object }, Out extends Output>(d: Decider<S, In, Out>): AnyDecider => d as unknown as AnyDecider;

/** Every component's decider: the same ones run in every engine. */
export const DECIDERS: Record<Component, AnyDecider> = {
  orchestrator: erase(orchestratorDecider),
  'guest-viommu': erase(guestViommuDecider),
  'vfio-type1': erase(vfioType1Decider),
  'mdev-parent': erase(mdevParentDecider),
  'host-vtd': erase(hostVtdDecider),
};
