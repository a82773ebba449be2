import type { Scenario, Step } from '../../../scenario/src/index.js';
import type { Topology } from './topology.js';

/**
 * What the program has made so far, as the generator needs it to draw arguments that refer to earlier
 * results (syzkaller's resources): PASIDs bound by `as:` and whose VM they belong to, page-table roots
 * a bind used, pages the guest mapped, pages a vendor driver pinned, what manual setup did.
 */
export interface GenState {
  topo: Topology;
  vars: Array<{ name: string; vm: string; freed: boolean }>;
  /** the binds the program made: a PASID (variable or number) of a VM and its page-table root */
  roots: Array<{ vm: string; gpgd: number; pasid: number | string }>;
  mapped: Array<{ vm: string; gpgd: number; va: number; gpa: number }>;
  pinned: Array<{ mdev: string; gpa: number; pages: number }>;
  created: Set<string>;
  setIommu: Set<string>;
  attached: Set<string>;
  torn: Set<string>;
  /** the VM the last step acted on: most steps stay with it, so a program goes deep on one VM */
  lastVm?: string;
}

export function emptyState(topo: Topology): GenState {
  return { topo, vars: [], roots: [], mapped: [], pinned: [], created: new Set(), setIommu: new Set(), attached: new Set(), torn: new Set() };
}

/** The state after a step (a pure fold: the state at any point of a program is its prefix's fold). */
export function extend(s: GenState, st: Step): GenState {
  const n: GenState = { ...s };
  if ('vm' in st) n.lastVm = st.vm;
  else if ('mdev' in st) n.lastVm = s.topo.vms.find((v) => v.mdevs.some((m) => m.id === st.mdev))?.id ?? s.lastVm;
  switch (st.op) {
    case 'pasid_alloc':
    case 'ioctl_pasid_request':
      if (st.as) n.vars = [...s.vars.filter((v) => v.name !== st.as), { name: st.as, vm: st.vm, freed: false }];
      break;
    case 'pasid_free':
      if (typeof st.pasid === 'string') n.vars = s.vars.map((v) => (`$${v.name}` === st.pasid ? { ...v, freed: true } : v));
      break;
    case 'bind':
      n.roots = [...s.roots, { vm: st.vm, gpgd: st.gpgd, pasid: st.pasid }];
      break;
    case 'guest_map':
      n.mapped = [...s.mapped, { vm: st.vm, gpgd: st.gpgd, va: st.va, gpa: st.gpa }];
      break;
    case 'pin_pages':
      n.pinned = [...s.pinned, { mdev: st.mdev, gpa: st.gpa, pages: st.pages }];
      break;
    case 'mdev_create':
      n.created = new Set([...s.created, st.mdev]);
      break;
    case 'vfio_set_iommu':
      n.setIommu = new Set([...s.setIommu, st.vm]);
      break;
    case 'vfio_attach_group':
      n.attached = new Set([...s.attached, `${st.vm}/${st.group}`]);
      break;
    case 'vm_teardown':
      n.torn = new Set([...s.torn, st.vm]);
      break;
    default:
  }
  return n;
}

export function stateAt(sc: Pick<Scenario, 'host' | 'parents' | 'vms' | 'steps'>, k: number): GenState {
  return sc.steps.slice(0, k).reduce(extend, emptyState(sc));
}

/** The mdevs a step may name: every one set up before step 0, and the manual ones once created. */
export function usableMdevs(s: GenState): Array<{ id: string; vm: string; parent: string; iommu: boolean }> {
  const kind = new Map(s.topo.parents.map((p) => [p.id, p.kind]));
  return s.topo.vms.flatMap((vm) => vm.mdevs.filter((m) => m.create !== 'manual' || s.created.has(m.id)).map((m) => ({ id: m.id, vm: vm.id, parent: m.parent, iommu: kind.get(m.parent) === 'iommu-backed' })));
}

/** The first variable name no step has bound. */
export function freshVar(s: GenState): string {
  for (let i = 1; ; i++) if (!s.vars.some((v) => v.name === `p${i}`)) return `p${i}`;
}

/**
 * Whether every PASID a device presents (DMA, page request, workload) is one its VM allocated or
 * bound before, or 0 (args.ts devicePasid): a mutation that reorders or deletes steps keeps it.
 */
export function devicePasidsGrounded(sc: Pick<Scenario, 'host' | 'parents' | 'vms' | 'steps' | 'workload'>): boolean {
  const ok = (mdev: string, pasid: number | string, at: number) => {
    if (pasid === 0) return true;
    const s = stateAt(sc, at);
    const vm = s.topo.vms.find((v) => v.mdevs.some((m) => m.id === mdev))?.id;
    return s.roots.some((x) => x.vm === vm && x.pasid === pasid) || s.vars.some((v) => v.vm === vm && `$${v.name}` === pasid);
  };
  return sc.steps.every((st, i) => (st.op !== 'dma' && st.op !== 'page_request') || ok(st.mdev, st.pasid, i)) && sc.workload.every((w) => ok(w.mdev, w.pasid, w.from));
}
