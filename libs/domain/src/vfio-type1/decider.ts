import { ERRNO, type InputTo, type Reply } from '../../../contracts/src/index.js';
import { drop, put, type Decider } from '../decider.js';
import { answer, callerOf, completeStep, evolveCalls, resumed } from '../request-reply.js';
import { evt, openContainer, type VfioEvent, type VfioIn, type VfioOut } from './common.js';
import { dmaUnmap, pinPages, unmapReply, unpinPages } from './pins.js';
import { containerOfMdev, containersOf, vmmOf, type Container, type VfioState } from './state.js';
import { startWalk, walkReply } from './vfio-iommu-for-each-dev.js';
import { attachGroup, attachReply } from './vfio-iommu-type1-attach-group.js';
import { vfioIommuType1NestingOp } from './vfio-iommu-type1-nesting-op.js';
import { allocReply, vfioIommuType1PasidRequest } from './vfio-iommu-type1-pasid-request.js';
import { afterUnbinds } from './vfio-iommu-type1-release.js';

/** A reply to a request vfio_iommu_type1 sent: its parked continuation goes on (`tag`: this input's id, for the next request). */
function onReply(s: VfioState, tag: string, r: Reply): VfioOut[] {
  if (r.tag === null) return [];
  const op = s.calls[r.tag];
  if (!op) return [evt('ignored', { why: `reply to unknown request ${r.tag}` })];
  const done = resumed(r.tag);
  switch (op.kind) {
    case 'nest':
      return [done, ...walkReply(s, tag, op, r)];
    case 'attach':
      return [done, ...attachReply(s, tag, op, r)];
    case 'alloc':
      return [done, ...allocReply(s, op, r)];
    case 'unmap':
      return [done, ...unmapReply(s, tag, op)];
  }
}

/**
 * QEMU exits (vfio_iommu_type1_release of each of its containers, §2.7): unbind every PASID of the mm
 * on every device first, then detach every group and release every container.
 */
function vmTeardown(s: VfioState, input: VfioIn<'step.vm_teardown'>): VfioOut[] {
  const { vm } = input.payload;
  const caller = callerOf(input);
  const cs = containersOf(s, vm);
  if (!cs.length) return answer(caller, { ret: -ERRNO.ENODEV });
  const pasids = vmmOf(s, vm) ?? [];
  if (cs.some((c) => c.nesting && c.nesting_info) && pasids.length) return startWalk(s, input.id, vm, 'unbind', { hpasid: pasids[0] }, caller, pasids, true);
  return afterUnbinds(s, input.id, { vm, caller, thenFree: pasids, teardown: true });
}

export const vfioType1Decider: Decider<VfioState, InputTo<'vfio-type1'>, VfioOut> = {
  component: 'vfio-type1',
  initialState: () => ({ containers: {}, calls: {}, vms: {}, mm: {} }),

  decide(s, input): VfioOut[] {
    switch (input.type) {
      case 'run.open': {
        const o = input.payload;
        return [evt('vfio.configured', { policy: o.policy, ram: Object.fromEntries(o.topology.vms.map((v) => [v.id, v.ram_pages ?? 4096])) })];
      }
      case 'step.vfio_set_iommu': {
        const p = input.payload;
        return [openContainer(s, p.vm, p.nesting).event, completeStep(p.step, { ret: 0 })];
      }
      case 'step.vfio_attach_group':
        return attachGroup(s, input);
      case 'step.dma_unmap':
        return dmaUnmap(s, input);
      case 'step.vm_teardown':
        return vmTeardown(s, input);
      case 'VFIO_IOMMU_PASID_REQUEST':
        return vfioIommuType1PasidRequest(s, input);
      case 'VFIO_IOMMU_NESTING_OP':
        return vfioIommuType1NestingOp(s, input);
      case 'vfio_register_notifier': {
        const p = input.payload;
        return containerOfMdev(s, p.vm, p.mdev) ? [evt('notifier.registered', { vm: p.vm, mdev: p.mdev })] : [];
      }
      case 'vfio_pin_pages':
        return pinPages(s, input);
      case 'vfio_unpin_pages':
        return unpinPages(s, input);
      case 'vfio_mdev_get_iommu_device.ret':
      case 'iommu_domain_alloc.ret':
      case 'iommu_aux_attach_device.ret':
      case 'iommu_attach_device.ret':
      case 'ioasid_alloc.ret':
      case 'iommu_sva_bind_gpasid.ret':
      case 'iommu_sva_unbind_gpasid.ret':
      case 'iommu_cache_invalidate.ret':
      case 'vfio_dma_unmap_notify.ret':
        return onReply(s, input.id, input.payload);
      default: {
        const other: { type: string } = input;
        return [evt('ignored', { why: `vfio-type1 has no handler for ${other.type}` })];
      }
    }
  },

  evolve(s, o): VfioState {
    if (o.kind === 'command') return s;
    return evolveEvent(s, o);
  },
};

function evolveEvent(s: VfioState, o: VfioEvent): VfioState {
  const setC = (nextC: Container): VfioState => ({ ...s, containers: put(s.containers, nextC.id, nextC) });
  switch (o.type) {
    case 'vfio.configured':
      return { ...s, policy: o.payload.policy, ram: o.payload.ram };
    case 'container.set_iommu': {
      const p = o.payload;
      const c: Container = {
        id: p.container, vm: p.vm, nesting: p.nesting, v2: true, domain_list: [], external_domain: [], groups: {}, nesting_info: false, vmm: false,
        ram_pages: s.ram?.[p.vm] ?? 4096, unmapped: [], pins: {}, notifiers: {},
      };
      return { ...s, containers: put(s.containers, c.id, c), vms: put(s.vms, p.vm, [...(s.vms[p.vm] ?? []), c.id]) };
    }
    case 'group.attached': {
      const p = o.payload;
      const c = s.containers[p.container]!;
      const groups = put(c.groups, p.group, { mdev_group: true, devices: p.devices });
      if (p.where === 'external_domain') return setC({ ...c, groups, external_domain: [...c.external_domain, p.group] });
      return setC({ ...c, groups, nesting_info: c.nesting_info || p.nesting_info, domain_list: [...c.domain_list, { domain: p.domain, did: p.did, groups: [p.group] }] });
    }
    case 'vfio_mm.get': {
      const { vm, container } = o.payload;
      return { ...setC({ ...s.containers[container]!, vmm: true }), mm: put(s.mm, vm, s.mm[vm] ?? []) };
    }
    case 'pasid.allocated': {
      const { vm, pasid } = o.payload;
      return { ...s, mm: put(s.mm, vm, [...(s.mm[vm] ?? []), pasid]) };
    }
    case 'pasid.freed': {
      const { vm, pasid } = o.payload;
      return { ...s, mm: put(s.mm, vm, (s.mm[vm] ?? []).filter((x) => x !== pasid)) };
    }
    case 'container.released': {
      const { vm, container } = o.payload;
      const left = (s.vms[vm] ?? []).filter((id) => id !== container);
      // the vfio_mm goes with the last container that held it
      const mmLeft = left.some((id) => s.containers[id]!.vmm);
      return { ...s, containers: drop(s.containers, container), vms: left.length ? put(s.vms, vm, left) : drop(s.vms, vm), mm: mmLeft ? s.mm : drop(s.mm, vm) };
    }
    case 'notifier.registered': {
      const { vm, mdev } = o.payload;
      const c = containerOfMdev(s, vm, mdev)!; // the container its group joined
      return setC({ ...c, notifiers: put(c.notifiers, mdev, true as const) });
    }
    case 'pages.pinned': {
      const { vm, mdev, pages } = o.payload;
      const c = containerOfMdev(s, vm, mdev)!; // the container its group joined
      const mine = { ...(c.pins[mdev] ?? {}) };
      for (const g of pages) mine[g] = (mine[g] ?? 0) + 1;
      return setC({ ...c, pins: put(c.pins, mdev, mine) });
    }
    case 'pages.unpinned': {
      const { vm, mdev, pages } = o.payload;
      const c = containerOfMdev(s, vm, mdev)!; // the container its group joined
      const mine = { ...(c.pins[mdev] ?? {}) };
      for (const g of pages) if (mine[g]! > 1) mine[g]! -= 1; else delete mine[g];
      return setC({ ...c, pins: Object.keys(mine).length ? put(c.pins, mdev, mine) : drop(c.pins, mdev) });
    }
    case 'dma.unmapped': {
      const { container, range } = o.payload;
      const c = s.containers[container]!;
      return setC({ ...c, unmapped: [...c.unmapped, range] });
    }
    case 'call.parked':
    case 'call.resumed':
      return { ...s, calls: evolveCalls(s.calls, o) };
    default:
      return s;
  }
}
