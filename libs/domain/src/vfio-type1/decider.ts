import type { Envelope } from '../../../contracts/src/index.js';
import { cmd, drop, evt, put, type Decider, type Output, type Ret } from '../decider.js';
import type { RunOpen } from '../topology.js';
import { attachGroup, attachReply } from './attach.js';
import { answer, callerOf } from './common.js';
import { afterTeardown, nestingOp, startWalk, walkReply } from './nesting-op.js';
import { allocReply, pasidRequest } from './pasid-request.js';
import { dmaUnmap, pinPages, unmapReply, unpinPages } from './pins.js';
import type { Container, VfioOp, VfioState } from './state.js';

function onReply(s: VfioState, input: Envelope): Output[] {
  const r = input.payload as Ret & { tag: string };
  const op = s.ops[r.tag];
  if (!op) return r.tag === null ? [] : [evt('ignored', { why: `reply to unknown request ${r.tag}` })];
  const resumed = evt('op.resumed', { tag: r.tag });
  switch (op.kind) {
    case 'nest':
      return [resumed, ...walkReply(s, input, op, r)];
    case 'attach':
      return [resumed, ...attachReply(s, input, op, r)];
    case 'alloc':
      return [resumed, ...allocReply(s, op, r)];
    case 'unmap':
      return [resumed, ...unmapReply(s, input, op, r)];
  }
}

/** QEMU exits: detach every group (unbinding every PASID of the mm first), release the container (§2.7). */
function vmTeardown(s: VfioState, input: Envelope): Output[] {
  const p = input.payload as { vm: string };
  const c = s.containers[p.vm];
  const caller = callerOf(input);
  if (!c) return [answer(caller, { ret: -19 })];
  const pasids = c.vmm?.pasids ?? [];
  if (c.nesting && c.nesting_info && pasids.length) return startWalk(s, input, p.vm, 'unbind', { hpasid: pasids[0] }, caller, pasids, true);
  return afterTeardown(s, { vm: p.vm, caller, thenFree: pasids, teardown: true });
}

export const vfioType1Decider: Decider<VfioState> = {
  component: 'vfio-type1',
  initialState: () => ({ containers: {}, ops: {} }),

  decide(s, input): Output[] {
    switch (input.type) {
      case 'run.open': {
        const o = input.payload as RunOpen;
        return [evt('vfio.configured', { policy: o.policy, ram: Object.fromEntries(o.topology.vms.map((v) => [v.id, v.ram_pages ?? 4096])) })];
      }
      case 'step.vfio_set_iommu': {
        const p = input.payload as { step: number; vm: string; nesting: boolean };
        return [evt('container.set_iommu', { vm: p.vm, type: p.nesting ? 'VFIO_TYPE1_NESTING_IOMMU' : 'VFIO_TYPE1v2_IOMMU', nesting: p.nesting }), cmd('orchestrator', 'step.completed', { step: p.step, outcome: { ret: 0 } })];
      }
      case 'step.vfio_attach_group':
        return attachGroup(s, input);
      case 'step.dma_unmap':
        return dmaUnmap(s, input);
      case 'step.vm_teardown':
        return vmTeardown(s, input);
      case 'VFIO_IOMMU_PASID_REQUEST':
        return pasidRequest(s, input);
      case 'VFIO_IOMMU_NESTING_OP':
        return nestingOp(s, input);
      case 'vfio_register_notifier': {
        const p = input.payload as { vm: string; mdev: string };
        return s.containers[p.vm] ? [evt('notifier.registered', { vm: p.vm, mdev: p.mdev })] : [];
      }
      case 'vfio_pin_pages':
        return pinPages(s, input);
      case 'vfio_unpin_pages':
        return unpinPages(s, input);
      default:
        if (input.type.endsWith('.ret')) return onReply(s, input);
        return [evt('ignored', { why: `vfio-type1 has no handler for ${input.type}` })];
    }
  },

  evolve(s, o): VfioState {
    if (o.kind !== 'event') return s;
    const p = o.payload as Record<string, unknown> & { vm: string };
    const c = s.containers[p.vm];
    const setC = (nextC: Container) => ({ ...s, containers: put(s.containers, p.vm, nextC) });
    switch (o.type) {
      case 'vfio.configured':
        return { ...s, policy: p.policy as VfioState['policy'], ram: p.ram as Record<string, number> };
      case 'container.set_iommu':
        return setC({
          nesting: p.nesting as boolean, v2: true, domain_list: [], external_domain: [], groups: {}, nesting_info: false, vmm: null,
          ram_pages: s.ram?.[p.vm] ?? 4096, unmapped: [], pins: {}, notifiers: {},
        });
      case 'group.attached': {
        const groups = put(c!.groups, p.group as string, { mdev_group: true, devices: p.devices as string[] });
        if (p.where === 'external_domain') return setC({ ...c!, groups, external_domain: [...c!.external_domain, p.group as string] });
        return setC({
          ...c!, groups, nesting_info: c!.nesting_info || (p.nesting_info as boolean),
          domain_list: [...c!.domain_list, { domain: p.domain as number, did: p.did as number, groups: [p.group as string] }],
        });
      }
      case 'vfio_mm.get':
        return setC({ ...c!, vmm: { pasids: [] } });
      case 'pasid.allocated':
        return setC({ ...c!, vmm: { pasids: [...c!.vmm!.pasids, p.pasid as number] } });
      case 'pasid.freed':
        return setC({ ...c!, vmm: c!.vmm ? { pasids: c!.vmm.pasids.filter((x) => x !== p.pasid) } : null });
      case 'container.released':
        return { ...s, containers: drop(s.containers, p.vm) };
      case 'notifier.registered':
        return setC({ ...c!, notifiers: put(c!.notifiers, p.mdev as string, true as const) });
      case 'pages.pinned': {
        const mine = { ...(c!.pins[p.mdev as string] ?? {}) };
        for (const g of p.pages as number[]) mine[g] = (mine[g] ?? 0) + 1;
        return setC({ ...c!, pins: put(c!.pins, p.mdev as string, mine) });
      }
      case 'pages.unpinned': {
        const mine = { ...(c!.pins[p.mdev as string] ?? {}) };
        for (const g of p.pages as number[]) if (mine[g]! > 1) mine[g]! -= 1; else delete mine[g];
        return setC({ ...c!, pins: Object.keys(mine).length ? put(c!.pins, p.mdev as string, mine) : drop(c!.pins, p.mdev as string) });
      }
      case 'dma.unmapped':
        return setC({ ...c!, unmapped: [...c!.unmapped, p.range as [number, number]] });
      case 'op.await':
        return { ...s, ops: put(s.ops, p.tag as string, p.op as VfioOp) };
      case 'op.resumed':
        return { ...s, ops: drop(s.ops, p.tag as string) };
      default:
        return s;
    }
  },
};
