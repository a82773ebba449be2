import { CACHE_INVALIDATE_INFO_MINSZ, GPASID_BIND_DATA_MINSZ, PASID_REQUEST_MINSZ } from '../../../contracts/src/index.js';
import type { Step } from '../../../scenario/src/index.js';
import { arg, boundPasidArg, devicePasid, drawMode, GPAS, pageAligned, pasidArg, pasidMax, ROOTS, VAS, type ModeOdds } from './args.js';
import type { Rand } from './rand.js';
import { freshVar, usableMdevs, type GenState } from './state.js';

/** A step as drawn, before the schema fills its defaults. */
export type RawStep = { op: Step['op'] } & Record<string, unknown>;

/**
 * One operation of the guest, the VMM, a device or the host, as the generator knows it: when it can
 * be drawn (what it needs to exist), and how each argument is drawn (valid, boundary, invalid), with
 * references to what earlier steps made. The descriptions are the generator's only knowledge of the
 * operations; they say nothing about what the kernel does with them (the deciders' business) nor
 * what should come of them (the checkers').
 */
/**
 * What operations make and use: a PASID, a binding (a PASID entry pointing at the guest's tables),
 * a guest mapping, a cached translation, pinned pages, a queued page request. The generator favours
 * an operation that uses what the step before it made (syzkaller's choice table, from the
 * descriptions), so that programs chain: bind, map, DMA, remap, invalidate, DMA.
 */
export type Resource = 'pasid' | 'binding' | 'mapping' | 'translation' | 'pin' | 'prq';

export interface OpDescription {
  op: Step['op'];
  makes?: Resource[];
  uses?: Resource[];
  /** who issues it */
  family: 'guest' | 'vmm' | 'device' | 'host' | 'setup';
  /** what most programs need (allocation, bind): kept on in most swarm draws */
  core?: boolean;
  enabled: (s: GenState) => boolean;
  draw: (s: GenState, r: Rand, o: ModeOdds) => RawStep;
}

const liveVms = (s: GenState) => s.topo.vms.filter((v) => !s.torn.has(v.id));
function anyVm(s: GenState, r: Rand): string {
  if (s.lastVm && r.chance(0.7)) return s.lastVm;
  return (r.chance(0.9) && liveVms(s).length ? r.pick(liveVms(s)) : r.pick(s.topo.vms)).id;
}
const mdevsOf = (s: GenState) => usableMdevs(s);
/** an mdev, mostly of the VM the program is working on */
function pickMdev<T extends { vm: string }>(s: GenState, r: Rand, ms: T[]): T {
  const near = ms.filter((m) => m.vm === s.lastVm);
  return near.length && r.chance(0.7) ? r.pick(near) : r.pick(ms);
}
const bg = (r: Rand) => (r.chance(0.2) ? { background: true } : {});
const u32 = (r: Rand) => r.pick([0, 0xffffffff, 0x80000000, r.int(2, 1 << 16)]);

/** VA a device touches: mostly a page the guest mapped (the DMA then translates), else one of the pool. */
function deviceVa(s: GenState, r: Rand, vm: string): number {
  const mine = s.mapped.filter((m) => m.vm === vm);
  return mine.length && r.chance(0.7) ? r.pick(mine).va : r.pick(VAS);
}

function gpgdArg(s: GenState, r: Rand, o: ModeOdds, vm: string): number {
  const mine = s.roots.filter((x) => x.vm === vm);
  return arg(r, o, {
    // mostly the root a bind of the VM installed: the guest writes the tables its devices walk
    valid: () => (mine.length && r.chance(0.8) ? r.pick(mine).gpgd : r.pick(ROOTS)),
    boundary: () => r.pick([0, 0xfff000]),
    invalid: () => r.pick([0x100001, 0x7fff_ffff_f000]),
  });
}

/** groups of a VM whose mdevs say attach: manual, not attached yet, all their mdevs created */
function attachable(s: GenState) {
  return s.topo.vms.flatMap((vm) => {
    if (vm.set_iommu === 'manual' && !s.setIommu.has(vm.id)) return [];
    const groups = new Map<string, string[]>();
    for (const m of vm.mdevs) if (m.attach === 'manual') groups.set(m.group ?? m.id, [...(groups.get(m.group ?? m.id) ?? []), m.id]);
    return [...groups].filter(([g, ms]) => !s.attached.has(`${vm.id}/${g}`) && ms.every((m) => vm.mdevs.find((x) => x.id === m)!.create !== 'manual' || s.created.has(m))).map(([g]) => ({ vm: vm.id, group: g }));
  });
}

export const OP_DESCRIPTIONS: OpDescription[] = [
  // setup a VMM does itself when the topology says manual (setup-rules.ts)
  {
    op: 'mdev_create', family: 'setup',
    enabled: (s) => s.topo.vms.some((v) => v.mdevs.some((m) => m.create === 'manual' && !s.created.has(m.id))),
    draw: (s, r) => ({ op: 'mdev_create', mdev: r.pick(s.topo.vms.flatMap((v) => v.mdevs.filter((m) => m.create === 'manual' && !s.created.has(m.id)))).id }),
  },
  {
    op: 'vfio_set_iommu', family: 'setup',
    enabled: (s) => s.topo.vms.some((v) => v.set_iommu === 'manual' && !s.setIommu.has(v.id)),
    draw: (s, r) => ({ op: 'vfio_set_iommu', vm: r.pick(s.topo.vms.filter((v) => v.set_iommu === 'manual' && !s.setIommu.has(v.id))).id }),
  },
  {
    op: 'vfio_attach_group', family: 'setup',
    enabled: (s) => attachable(s).length > 0,
    draw: (s, r) => {
      const a = r.pick(attachable(s));
      // a second container of the VM (QEMU opening another), now and then (DOMAIN.md §7.15)
      return { op: 'vfio_attach_group', vm: a.vm, group: a.group, ...(r.chance(0.2) ? { container: r.pick([a.vm, `${a.vm}.c2`]) } : {}) };
    },
  },
  // the guest's vIOMMU driver, through QEMU's VCMD and invalidation queue
  {
    op: 'pasid_alloc', makes: ['pasid'], family: 'guest', core: true, enabled: () => true,
    draw: (s, r, o) => {
      const count = arg(r, o, { valid: () => 1, boundary: () => r.pick([pasidMax(s) - 1, pasidMax(s), pasidMax(s) + 1, 1000]), invalid: () => r.int(2, 64) });
      return { op: 'pasid_alloc', vm: anyVm(s, r), as: freshVar(s), ...(count > 1 ? { count: Math.min(count, 4096) } : {}) };
    },
  },
  {
    op: 'pasid_free', uses: ['pasid', 'prq'], family: 'guest', enabled: (s) => s.vars.length > 0,
    draw: (s, r, o) => { const vm = anyVm(s, r); return { op: 'pasid_free', vm, pasid: pasidArg(r, o, s, vm) }; },
  },
  {
    op: 'bind', makes: ['binding'], uses: ['pasid'], family: 'guest', core: true, enabled: () => true,
    draw: (s, r, o) => {
      const vm = anyVm(s, r);
      return {
        op: 'bind', vm, pasid: pasidArg(r, o, s, vm), gpgd: gpgdArg(s, r, o, vm),
        ...(drawMode(r, o) !== 'valid' ? { addr_width: r.pick([39, 57, 64]) } : {}),
        ...(drawMode(r, o) !== 'valid' ? { pgtt: r.pick([4, 0, 2, 7]) } : {}),
        ...(r.chance(0.1) ? { sre: true } : {}), ...(r.chance(0.1) ? { eafe: true } : {}),
      };
    },
  },
  {
    op: 'unbind', uses: ['binding', 'prq'], family: 'guest', core: true, enabled: (s) => s.vars.length > 0 || s.roots.length > 0,
    draw: (s, r, o) => { const vm = anyVm(s, r); return { op: 'unbind', vm, pasid: boundPasidArg(r, o, s, vm) }; },
  },
  {
    op: 'iotlb_invalidate', uses: ['translation', 'mapping'], family: 'guest', core: true, enabled: () => true,
    draw: (s, r, o) => {
      const vm = anyVm(s, r);
      const addr = r.chance(0.5);
      return {
        op: 'iotlb_invalidate', vm, pasid: boundPasidArg(r, o, s, vm),
        ...(addr ? { granularity: 'addr', addr: arg(r, o, { valid: () => deviceVa(s, r, vm), boundary: () => 0, invalid: () => 0x400800 }), pages: arg(r, o, { valid: () => 1, boundary: () => r.pick([2, 512]), invalid: () => 3 }) } : {}),
      };
    },
  },
  {
    op: 'guest_map', makes: ['mapping'], uses: ['binding', 'translation'], family: 'guest', core: true, enabled: () => true,
    draw: (s, r, o) => {
      const vm = anyVm(s, r);
      const prev = s.mapped.filter((m) => m.vm === vm);
      const write = r.chance(0.15) ? { write: false } : {};
      // remapping a mapped VA (in the same tables) to another page is what makes a cached translation stale
      if (prev.length && r.chance(0.5)) {
        const m = r.pick(prev);
        const other = GPAS.filter((g) => g !== m.gpa);
        return { op: 'guest_map', vm, gpgd: r.chance(0.9) ? m.gpgd : gpgdArg(s, r, o, vm), va: m.va, gpa: arg(r, o, { ...pageAligned, valid: () => r.pick(other) }), ...write };
      }
      return { op: 'guest_map', vm, gpgd: gpgdArg(s, r, o, vm), va: r.pick(VAS), gpa: arg(r, o, pageAligned), ...write };
    },
  },
  {
    op: 'guest_unmap', uses: ['mapping', 'translation'], family: 'guest', enabled: (s) => s.mapped.length > 0,
    draw: (s, r) => { const m = r.pick(s.mapped); return { op: 'guest_unmap', vm: m.vm, gpgd: m.gpgd, va: m.va }; },
  },
  // the VMM's own ioctls: the uAPI structs, field by field (DOMAIN.md §7.5, §7.6)
  {
    op: 'ioctl_pasid_request', makes: ['pasid'], family: 'vmm', enabled: () => true,
    draw: (s, r, o) => ({
      op: 'ioctl_pasid_request', vm: anyVm(s, r), as: freshVar(s),
      argsz: arg(r, o, { valid: () => PASID_REQUEST_MINSZ, boundary: () => r.pick([PASID_REQUEST_MINSZ - 1, PASID_REQUEST_MINSZ + 8]), invalid: () => r.pick([0, 4]) }),
      flags: arg(r, o, { valid: () => r.pick([1, 2]), boundary: () => 0, invalid: () => r.pick([3, 4, 0x80]) }),
      min: arg(r, o, { valid: () => 1, boundary: () => 0, invalid: () => pasidMax(s) + 5 }),
      max: arg(r, o, { valid: () => pasidMax(s) - 1, boundary: () => r.pick([1, pasidMax(s)]), invalid: () => r.pick([0, 2 ** 31]) }),
    }),
  },
  ...(['ioctl_bind', 'ioctl_unbind'] as const).map((op): OpDescription => ({
    op, family: 'vmm', enabled: () => true,
    ...(op === 'ioctl_bind' ? { makes: ['binding'] as Resource[], uses: ['pasid'] as Resource[] } : { uses: ['binding'] as Resource[] }),
    draw: (s, r, o) => {
      const vm = anyVm(s, r);
      return {
        op, vm, hpasid: pasidArg(r, o, s, vm), gpgd: gpgdArg(s, r, o, vm),
        op_argsz: arg(r, o, { valid: () => 16, boundary: () => 8, invalid: () => 4 }),
        argsz: arg(r, o, { valid: () => GPASID_BIND_DATA_MINSZ, boundary: () => r.pick([56, 64, 71, 80]), invalid: () => r.pick([0, 40]) }),
        version: arg(r, o, { valid: () => 1, boundary: () => 2, invalid: () => r.pick([0, 0xffffffff]) }),
        format: arg(r, o, { valid: () => 1, boundary: () => 2, invalid: () => 0 }),
        flags: arg(r, o, { valid: () => 1, boundary: () => 0, invalid: () => r.pick([2, 3, 0xff]) }),
        addr_width: arg(r, o, { valid: () => 48, boundary: () => 57, invalid: () => r.pick([39, 64]) }),
        vtd_flags: arg(r, o, { valid: () => 0, boundary: () => 1, invalid: () => u32(r) }),
        ...(r.chance(0.3) ? { gpasid: pasidArg(r, o, s, vm) } : {}),
      };
    },
  })),
  {
    op: 'ioctl_invalidate', uses: ['translation', 'binding'], family: 'vmm', enabled: () => true,
    draw: (s, r, o) => {
      const vm = anyVm(s, r);
      // every cache type x granularity x flags (bug 5: the unsupported ones must not report success)
      return {
        op: 'ioctl_invalidate', vm, pasid: boundPasidArg(r, o, s, vm),
        op_argsz: arg(r, o, { valid: () => 16, boundary: () => 8, invalid: () => 4 }),
        argsz: arg(r, o, { valid: () => CACHE_INVALIDATE_INFO_MINSZ, boundary: () => r.pick([16, 32, 56]), invalid: () => r.pick([0, 8]) }),
        version: arg(r, o, { valid: () => 1, boundary: () => 2, invalid: () => 0 }),
        cache: arg(r, o, { valid: () => r.pick([1, 2, 3]), boundary: () => r.pick([4, 5, 6, 7]), invalid: () => r.pick([0, 8, 0xff]) }),
        granularity: arg(r, o, { valid: () => r.pick([0, 1, 2]), boundary: () => r.pick([0, 2]), invalid: () => r.pick([3, 7]) }),
        flags: arg(r, o, { valid: () => r.pick([0, 1]), boundary: () => r.pick([2, 3]), invalid: () => r.pick([4, 0xff]) }),
        addr: arg(r, o, { valid: () => deviceVa(s, r, vm), boundary: () => 0, invalid: () => 0x400800 }),
        granule_size: arg(r, o, { valid: () => 4096, boundary: () => 0x200000, invalid: () => r.pick([0, 3000]) }),
        nb_granules: arg(r, o, { valid: () => 1, boundary: () => r.pick([0, 512]), invalid: () => 0xffffffff }),
      };
    },
  },
  // devices: DMA with a PASID, page requests (PRI), a vendor driver's pins
  {
    op: 'dma', makes: ['translation'], uses: ['mapping', 'binding', 'pin'], family: 'device', core: true, enabled: (s) => mdevsOf(s).length > 0,
    draw: (s, r) => {
      const m = pickMdev(s, r, mdevsOf(s));
      return { op: 'dma', mdev: m.id, pasid: m.iommu ? devicePasid(r, s, m.vm) : 0, va: m.iommu ? deviceVa(s, r, m.vm) : r.pick([0x10000, 0x20000]), ...(r.chance(0.5) ? { write: true } : {}), ...bg(r) };
    },
  },
  {
    op: 'page_request', makes: ['prq'], uses: ['binding', 'mapping'], family: 'device', enabled: (s) => mdevsOf(s).length > 0,
    draw: (s, r, o) => {
      const m = pickMdev(s, r, mdevsOf(s));
      return {
        op: 'page_request', mdev: m.id, pasid: devicePasid(r, s, m.vm), va: deviceVa(s, r, m.vm), ...(r.chance(0.4) ? { write: true } : {}),
        ...(drawMode(r, o) !== 'valid' ? { lpig: r.chance(0.5), pdp: r.chance(0.7) } : {}),
        ...(r.chance(0.05) ? { pasid_present: false } : {}), ...(r.chance(0.05) ? { pm_req: true } : {}), ...(r.chance(0.05) ? { exe_req: true } : {}),
        ...(r.chance(0.2) ? { prg: r.int(0, 511) } : {}), ...bg(r),
      };
    },
  },
  { op: 'prq_irq', uses: ['prq'], family: 'host', enabled: () => true, draw: () => ({ op: 'prq_irq' }) },
  {
    op: 'pin_pages', makes: ['pin'], family: 'device', enabled: (s) => mdevsOf(s).length > 0,
    draw: (s, r, o) => {
      const non = mdevsOf(s).filter((m) => !m.iommu);
      const m = non.length && r.chance(0.8) ? r.pick(non) : r.pick(mdevsOf(s));
      return { op: 'pin_pages', mdev: m.id, gpa: arg(r, o, pageAligned), ...(r.chance(0.3) ? { pages: r.int(2, 16) } : {}) };
    },
  },
  {
    op: 'dma_unmap', uses: ['pin'], family: 'vmm', enabled: () => true,
    draw: (s, r, o) => {
      const pin = s.pinned.length && r.chance(0.7) ? r.pick(s.pinned) : undefined;
      const vm = pin ? s.topo.vms.find((v) => v.mdevs.some((m) => m.id === pin.mdev))!.id : anyVm(s, r);
      return { op: 'dma_unmap', vm, gpa: pin ? pin.gpa : arg(r, o, pageAligned), size: arg(r, o, { valid: () => (pin ? pin.pages : 1) * 0x1000, boundary: () => 0x1000, invalid: () => r.pick([0, 0x800]) }) };
    },
  },
  {
    op: 'mdev_clear_iommu_device', uses: ['binding', 'translation'], family: 'host', enabled: (s) => mdevsOf(s).some((m) => m.iommu),
    draw: (s, r) => ({ op: 'mdev_clear_iommu_device', mdev: pickMdev(s, r, mdevsOf(s).filter((m) => m.iommu)).id }),
  },
  // teardown and hot-unplug
  { op: 'vm_teardown', uses: ['pin', 'binding'], family: 'vmm', enabled: (s) => liveVms(s).length > 0, draw: (s, r) => ({ op: 'vm_teardown', vm: r.pick(liveVms(s)).id }) },
  { op: 'mdev_remove', family: 'host', enabled: (s) => mdevsOf(s).length > 0, draw: (s, r) => ({ op: 'mdev_remove', mdev: r.pick(mdevsOf(s)).id }) },
  {
    op: 'device_remove', uses: ['binding', 'translation'], family: 'device', enabled: (s) => s.topo.parents.some((p) => p.kind === 'iommu-backed'),
    draw: (s, r) => ({ op: 'device_remove', parent: r.pick(s.topo.parents.filter((p) => p.kind === 'iommu-backed')).id, ...bg(r) }),
  },
  {
    op: 'device_fault', uses: ['translation', 'prq'], family: 'device', enabled: (s) => s.topo.parents.some((p) => p.kind === 'iommu-backed'),
    draw: (s, r) => ({ op: 'device_fault', parent: r.pick(s.topo.parents.filter((p) => p.kind === 'iommu-backed')).id, fault: r.pick(['ite', 'prq_overflow']), count: r.pick([1, 2, 16]), ...bg(r) }),
  },
  {
    op: 'fault_storm', family: 'device', enabled: (s) => mdevsOf(s).some((m) => m.iommu),
    draw: (s, r) => ({ op: 'fault_storm', mdev: r.pick(mdevsOf(s).filter((m) => m.iommu)).id, count: r.pick([1, 16, 64]), ...bg(r) }),
  },
  { op: 'quiesce', family: 'guest', enabled: () => true, draw: () => ({ op: 'quiesce' }) },
];

export type OpName = Step['op'];
export const opDescription = (op: string) => OP_DESCRIPTIONS.find((d) => d.op === op);
