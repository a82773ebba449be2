import { COMPONENTS, LANE, type Component, type Envelope, type LogEntry } from '../../../libs/contracts/src/index.js';
import type { GuestViommuState, HostVtdState, MdevParentState, OrchestratorState, VfioState } from '../../../libs/domain/src/index.js';
import { brief } from '../../../libs/engine/src/index.js';
import { initialRuntime, processInput, type ComponentRuntime } from '../../../libs/runtime/src/index.js';
import type { StateAt, StateSection } from './api-types.js';

export type { ComponentAt, StateAt, StateSection } from './api-types.js';

const empty = (v: object) => Object.keys(v).length === 0;

/**
 * The parts of each component's state a reader looks for, by the kernel's and QEMU's names (DOMAIN.md
 * §1): the guest's PASID table and QEMU's PASID cache; VFIO's containers with their domain_list and the
 * vfio_mm PASID set; the mdevs, the vendor driver's pins and each device's TLB; the host's PASID table
 * entries, PASID cache, IOTLB, intel_svm list, PRQ and oops. The rest of a state is under `other`.
 */
function sectionsOf(c: Component, state: unknown): StateSection[] {
  switch (c) {
    case 'orchestrator': {
      const s = state as OrchestratorState;
      return [
        { title: 'progress', value: { cursor: s.cursor, completed: s.completed, planned: s.plan.length, background: Object.keys(s.background).map(Number), finished: s.finished } },
        { title: 'variables', value: s.vars },
      ];
    }
    case 'guest-viommu': {
      const s = state as GuestViommuState;
      return [
        ...Object.entries(s.vms).flatMap(([vm, v]) => [
          { title: `${vm}: PASID table`, value: v.table },
          { title: `${vm}: PASID cache (QEMU)`, value: v.cache },
        ]),
        { title: 'waiting on VFIO', value: s.calls },
      ];
    }
    case 'vfio-type1': {
      const s = state as VfioState;
      return [
        ...Object.values(s.containers).map((k) => ({
          title: `container ${k.id} (${k.vm}${k.nesting ? ', nesting' : ''})`,
          value: { domain_list: k.domain_list, groups: k.groups, external_domain: k.external_domain, vfio_mm: k.vmm, pins: k.pins, unmapped: k.unmapped },
        })),
        { title: 'vfio_mm PASIDs by VM', value: s.mm },
        { title: 'walks in progress', value: s.calls },
      ];
    }
    case 'mdev-parent': {
      const s = state as MdevParentState;
      return [
        { title: 'mdevs (iommu_device)', value: s.mdevs },
        { title: 'vendor driver pins (GPA page -> HPA page)', value: s.pins },
        { title: 'device TLB (ATS), by RID -> PASID -> page', value: s.devtlb },
        { title: 'outstanding page requests', value: s.outstanding },
        { title: 'DMAs in flight', value: { waiting_on_iommu: s.calls, waiting_on_page_response: s.dmas } },
        ...(empty(s.absent) ? [] : [{ title: 'surprise-removed parents', value: s.absent }]),
      ];
    }
    case 'host-vtd': {
      const s = state as HostVtdState;
      return [
        ...(s.oops ? [{ title: 'OOPS', value: s.oops }] : []),
        ...(s.hung ? [{ title: 'CPU hung in qi_submit_sync', value: s.hung }] : []),
        { title: 'PASID table entries, by device', value: s.pasidTable },
        { title: 'PASID cache', value: s.pasidCache },
        { title: 'IOTLB (DID:PASID -> page)', value: s.iotlb },
        { title: 'intel_svm (by host PASID)', value: s.svm },
        { title: 'dmar_domain', value: s.domains },
        { title: 'IOASID allocator', value: s.ioasid },
        { title: 'page request queue', value: { prq: s.prq, pro: s.pro, pending_faults: s.pendingFaults } },
        { title: 'waiting on device TLB completion', value: s.calls },
        { title: 'devices', value: { present: s.devices, absent: s.absent } },
      ];
    }
  }
}

/**
 * Folds every component's recorded inputs up to `seq` (DESIGN.md §2.4: a state is its inputs, folded in
 * log order): the state each one had right after the entry at `seq` was written.
 */
export function stateAt(entries: readonly LogEntry[], seq: number): StateAt {
  const rts = new Map<Component, ComponentRuntime>();
  const consumed = new Map<Component, { e: LogEntry; n: number }>();
  for (const e of entries) {
    if (e.seq > seq) break;
    if (e.kind !== 'input') continue;
    const c = e.component;
    rts.set(c, processInput(c, rts.get(c) ?? initialRuntime(c), e.payload as Envelope, { hash: false }).next);
    consumed.set(c, { e, n: (consumed.get(c)?.n ?? 0) + 1 });
  }
  return {
    seq,
    entry: entries.find((e) => e.seq === seq) ?? null,
    components: COMPONENTS.map((c) => {
      const last = consumed.get(c);
      return {
        component: c, lane: LANE[c],
        consumed: last ? { seq: last.e.seq, type: last.e.type, brief: brief(last.e) } : null,
        inputs: last?.n ?? 0,
        sections: sectionsOf(c, (rts.get(c) ?? initialRuntime(c)).state),
      };
    }),
  };
}
