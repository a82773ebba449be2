import type { Component } from '../../contracts/src/index.js';
import type { Decider } from './decider.js';
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

/** Every component's decider: the same ones run in every engine. */
export const DECIDERS: Record<Component, Decider<unknown>> = {
  orchestrator: orchestratorDecider as Decider<unknown>,
  'guest-viommu': guestViommuDecider as Decider<unknown>,
  'vfio-type1': vfioType1Decider as Decider<unknown>,
  'mdev-parent': mdevParentDecider as Decider<unknown>,
  'host-vtd': hostVtdDecider as Decider<unknown>,
};
