import { ERRNO, type InputTo, type Reply } from '../../../contracts/src/index.js';
import { drop, put, type Decider } from '../decider.js';
import { answer, callerOf, completeStep, evolveCalls, resumed } from '../request-reply.js';
import { evt, type VfioEvent, type VfioIn, type VfioOut } from './common.js';
import { dmaUnmap, pinPages, unmapReply, unpinPages } from './pins.js';
import type { Container, VfioState } from './state.js';
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

/** QEMU exits (vfio_iommu_type1_release): detach every group (unbinding every PASID of the mm first), release the container (§2.7). */
function vmTeardown(s: VfioState, input: VfioIn<'step.vm_teardown'>): VfioOut[] {
  const { vm } = input.payload;
  const c = s.containers[vm];
  const caller = callerOf(input);
  if (!c) return answer(caller, { ret: -ERRNO.ENODEV });
  const pasids = c.vmm?.pasids ?? [];
  if (c.nesting && c.nesting_info && pasids.length) return startWalk(s, input.id, vm, 'unbind', { hpasid: pasids[0] }, caller, pasids, true);
  return afterUnbinds(s, input.id, { vm, caller, thenFree: pasids, teardown: true });
}

export const vfioType1Decider: Decider<VfioState, InputTo<'vfio-type1'>, VfioOut> = {
  component: 'vfio-type1',
  initialState: () => ({ containers: {}, calls: {} }),

  decide(s, input): VfioOut[] {
    switch (input.type) {
      case 'run.open': {
        const o = input.payload;
        return [evt('vfio.configured', { policy: o.policy, ram: Object.fromEntries(o.topology.vms.map((v) => [v.id, v.ram_pages ?? 4096])) })];
      }
      case 'step.vfio_set_iommu': {
        const p = input.payload;
        return [evt('container.set_iommu', { vm: p.vm, type: p.nesting ? 'VFIO_TYPE1_NESTING_IOMMU' : 'VFIO_TYPE1v2_IOMMU', nesting: p.nesting }), completeStep(p.step, { ret: 0 })];
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
        return s.containers[p.vm] ? [evt('notifier.registered', { vm: p.vm, mdev: p.mdev })] : [];
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
  const setC = (vm: string, nextC: Container): VfioState => ({ ...s, containers: put(s.containers, vm, nextC) });
  switch (o.type) {
    case 'vfio.configured':
      return { ...s, policy: o.payload.policy, ram: o.payload.ram };
    case 'container.set_iommu': {
      const p = o.payload;
      return setC(p.vm, {
        nesting: p.nesting, v2: true, domain_list: [], external_domain: [], groups: {}, nesting_info: false, vmm: null,
        ram_pages: s.ram?.[p.vm] ?? 4096, unmapped: [], pins: {}, notifiers: {},
      });
    }
    case 'group.attached': {
      const p = o.payload;
      const c = s.containers[p.vm]!;
      const groups = put(c.groups, p.group, { mdev_group: true, devices: p.devices });
      if (p.where === 'external_domain') return setC(p.vm, { ...c, groups, external_domain: [...c.external_domain, p.group] });
      return setC(p.vm, { ...c, groups, nesting_info: c.nesting_info || p.nesting_info, domain_list: [...c.domain_list, { domain: p.domain, did: p.did, groups: [p.group] }] });
    }
    case 'vfio_mm.get':
      return setC(o.payload.vm, { ...s.containers[o.payload.vm]!, vmm: { pasids: [] } });
    case 'pasid.allocated': {
      const { vm, pasid } = o.payload;
      const c = s.containers[vm]!;
      return setC(vm, { ...c, vmm: { pasids: [...c.vmm!.pasids, pasid] } });
    }
    case 'pasid.freed': {
      const { vm, pasid } = o.payload;
      const c = s.containers[vm]!;
      return setC(vm, { ...c, vmm: c.vmm ? { pasids: c.vmm.pasids.filter((x) => x !== pasid) } : null });
    }
    case 'container.released':
      return { ...s, containers: drop(s.containers, o.payload.vm) };
    case 'notifier.registered': {
      const { vm, mdev } = o.payload;
      const c = s.containers[vm]!;
      return setC(vm, { ...c, notifiers: put(c.notifiers, mdev, true as const) });
    }
    case 'pages.pinned': {
      const { vm, mdev, pages } = o.payload;
      const c = s.containers[vm]!;
      const mine = { ...(c.pins[mdev] ?? {}) };
      for (const g of pages) mine[g] = (mine[g] ?? 0) + 1;
      return setC(vm, { ...c, pins: put(c.pins, mdev, mine) });
    }
    case 'pages.unpinned': {
      const { vm, mdev, pages } = o.payload;
      const c = s.containers[vm]!;
      const mine = { ...(c.pins[mdev] ?? {}) };
      for (const g of pages) if (mine[g]! > 1) mine[g]! -= 1; else delete mine[g];
      return setC(vm, { ...c, pins: Object.keys(mine).length ? put(c.pins, mdev, mine) : drop(c.pins, mdev) });
    }
    case 'dma.unmapped': {
      const { vm, range } = o.payload;
      const c = s.containers[vm]!;
      return setC(vm, { ...c, unmapped: [...c.unmapped, range] });
    }
    case 'call.parked':
    case 'call.resumed':
      return { ...s, calls: evolveCalls(s.calls, o) };
    default:
      return s;
  }
}
