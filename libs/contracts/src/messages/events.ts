// Each component's events live in its own file, beside its inputs.
export type { GuestViommuEvents } from './guest-viommu.js';
export type { HostVtdEvents } from './host-vtd.js';
export type { MdevParentEvents } from './mdev-parent.js';
export type { OrchestratorEvents } from './orchestrator.js';
export type { VfioType1Events } from './vfio-type1.js';
