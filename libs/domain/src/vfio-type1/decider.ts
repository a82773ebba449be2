import {
  ERRNO, NESTING_OP_MASK, NESTING_OP_NAMES, PASID_REQUEST_MINSZ, VFIO_IOMMU_FLAG_ALLOC_PASID, VFIO_IOMMU_FLAG_FREE_PASID,
  type Envelope, type NestingOp, type PasidRequest,
} from '../../../contracts/src/index.js';
import { cmd, drop, evt, put, type Decider, type Output, type Ret } from '../decider.js';
import type { RunOpen } from '../topology.js';
import type { AttachWalk, Caller, Container, NestKind, NestWalk, VfioOp, VfioState } from './state.js';

const HOST_CALL: Record<NestKind, string> = {
  bind: 'iommu_sva_bind_gpasid',
  unbind: 'iommu_sva_unbind_gpasid',
  inval: 'iommu_cache_invalidate',
};

function answer(c: Caller, r: Ret): Output {
  if (c.step !== undefined) return cmd('orchestrator', 'step.completed', { step: c.step, outcome: r });
  return cmd(c.to, `${c.type}.ret`, { re: c.re, tag: c.tag, ...r });
}
const callerOf = (input: Envelope): Caller => ({
  to: input.from as Caller['to'], type: input.type, re: input.id, tag: (input.payload as { tag?: unknown }).tag ?? null,
});

/** Park `op` until the reply to the request sent now (tagged with this input's id) comes back. */
const park = (input: Envelope, op: VfioOp): Output => evt('op.await', { tag: input.id, op });

// ---- PASID_REQUEST (vfio_iommu_type1_pasid_request, vfio_pasid.c) ----------------------------------

function pasidRequest(s: VfioState, input: Envelope): Output[] {
  const { vm, req } = input.payload as { vm: string; req: PasidRequest };
  const caller = callerOf(input);
  const c = s.containers[vm];
  const fail = (errno: keyof typeof ERRNO, why: string) => [evt('pasid_request.rejected', { vm, errno, why }), answer(caller, { ret: -ERRNO[errno] })];
  if (!c) return fail('ENODEV', 'no container');
  if (typeof req?.argsz !== 'number' || req.argsz < PASID_REQUEST_MINSZ) return fail('EINVAL', 'argsz < minsz');
  const alloc = req.flags === VFIO_IOMMU_FLAG_ALLOC_PASID;
  const free = req.flags === VFIO_IOMMU_FLAG_FREE_PASID;
  if (!alloc && !free) return fail('EINVAL', 'flags must be exactly one of ALLOC or FREE');
  if (!req.range || !Number.isInteger(req.range.min) || !Number.isInteger(req.range.max) || req.range.min > req.range.max) {
    return fail('EINVAL', 'range.min > range.max');
  }
  if (!c.vmm) return fail(s.policy!['vfio.no_vmm_errno'], 'no vfio_mm (not nesting, or no IOMMU domain)');
  if (free) {
    // vfio_pasid_free_range: frees every owned PASID in the range under pasid_lock, always 0
    const owned = c.vmm.pasids.filter((x) => x >= req.range.min && x <= req.range.max);
    return [
      ...owned.flatMap((pasid) => [evt('pasid.freed', { vm, pasid }), cmd('host-vtd', 'ioasid_free', { set: vm, pasid, noreply: true })]),
      answer(caller, { ret: 0 }),
    ];
  }
  if (c.vmm.pasids.length >= s.policy!['vfio.pasid_quota']) return fail(s.policy!['vfio.pasid_alloc_fail_errno'], 'vfio_mm PASID quota reached');
  return [park(input, { kind: 'alloc', vm, caller }), cmd('host-vtd', 'ioasid_alloc', { set: vm, min: req.range.min, max: req.range.max, tag: input.id })];
}

// ---- NESTING_OP (handle_pgtbl_op / cache invalidate) -----------------------------------------------

function nestingOp(s: VfioState, input: Envelope): Output[] {
  const { vm, op } = input.payload as { vm: string; op: NestingOp };
  const caller = callerOf(input);
  const c = s.containers[vm];
  const code = (op?.flags ?? -1) & NESTING_OP_MASK;
  const kind: NestKind | undefined = (['bind', 'unbind', 'inval'] as const)[code];
  const fail = (errno: keyof typeof ERRNO, why: string) => [evt('nesting_op.rejected', { vm, op: NESTING_OP_NAMES[code] ?? code, errno, why }), answer(caller, { ret: -ERRNO[errno] })];
  if (!c) return fail('ENODEV', 'no container');
  if (typeof op?.argsz !== 'number' || op.argsz < 8 || !kind || op.flags > NESTING_OP_MASK) return fail('EINVAL', 'bad argsz or op');
  if (!c.nesting_info) return fail('EOPNOTSUPP', 'no nesting_info: the container has no IOMMU domain (external_domain only)');
  if ((kind === 'bind' || kind === 'unbind') && !c.vmm) return fail('EINVAL', 'no vfio_mm');
  const devs = c.domain_list.flatMap((d) => d.groups.flatMap((g) => c.groups[g]!.devices.map((dev) => ({ domain: d.domain, group: g, dev, mdev_group: c.groups[g]!.mdev_group }))));
  const walk: NestWalk = { kind: 'nest', op: kind, vm, caller, devs, i: 0, stage: 'resolve', bound: [], data: op.data ?? {}, firstErr: 0 };
  return [evt('nesting_op.started', { vm, op: NESTING_OP_NAMES[code], devices: devs.map((d) => d.dev) }), ...stepWalk(s, input, walk)];
}

/** Next move of a for_each_dev walk: resolve the device, call the host, or finish. */
function stepWalk(s: VfioState, input: Envelope, w: NestWalk): Output[] {
  if (w.i >= w.devs.length) return finishWalk(w, w.op === 'inval' ? w.firstErr : 0);
  const d = w.devs[w.i]!;
  if (w.stage === 'resolve') {
    if (!d.mdev_group) return stepWalk(s, input, { ...w, stage: 'host', iommuDevice: d.dev });
    // iommu_device = vfio_mdev_get_iommu_device(dev)
    return [park(input, w), cmd('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: d.dev, tag: input.id })];
  }
  const iommuDevice = w.iommuDevice ?? null;
  if (iommuDevice === null && s.policy!['vfio.iommu_device_null_check']) {
    // v2+: vfio_get_iommu_device() returned NULL -> -EINVAL, the IOMMU layer never sees it
    const out: Output[] = [evt('iommu_device.null', { vm: w.vm, mdev: d.dev, op: w.op, errno: 'EINVAL' })];
    return [...out, ...deviceFailed(s, input, w, -ERRNO.EINVAL)];
  }
  const call = HOST_CALL[w.op];
  const args = w.op === 'bind' ? { data: w.data } : w.op === 'unbind' ? { pasid: (w.data as { hpasid?: number }).hpasid } : { info: w.data };
  return [park(input, w), cmd('host-vtd', call, { vm: w.vm, domain: d.domain, dev: iommuDevice, mdev: d.dev, ...args, tag: input.id })];
}

function deviceFailed(s: VfioState, input: Envelope, w: NestWalk, ret: number): Output[] {
  if (w.op === 'inval' && s.policy!['vfio.cache_invld_ignores_errors']) {
    return stepWalk(s, input, { ...w, i: w.i + 1, stage: 'resolve', iommuDevice: undefined });
  }
  if (w.op === 'bind') {
    // unwind: unbind every device bound so far (unbind never fails, so nothing is awaited)
    const undo = w.bound.map((b) => cmd('host-vtd', 'iommu_sva_unbind_gpasid', { vm: w.vm, domain: b.domain, dev: b.dev, pasid: (w.data as { hpasid?: number }).hpasid, noreply: true, unwind: true }));
    return [...undo, ...finishWalk(w, ret)];
  }
  return finishWalk(w, ret);
}

function finishWalk(w: NestWalk, ret: number, oops?: string): Output[] {
  return [evt('nesting_op.finished', { vm: w.vm, op: w.op, ret, oops: oops ?? null }), answer(w.caller, oops ? { ret, oops } : { ret })];
}

function walkReply(s: VfioState, input: Envelope, w: NestWalk, r: Ret): Output[] {
  if (w.stage === 'resolve') return stepWalk(s, input, { ...w, stage: 'host', iommuDevice: (r.value as string | null) ?? null });
  if (r.oops) return finishWalk(w, r.ret, r.oops);
  const d = w.devs[w.i]!;
  if (r.ret < 0) {
    const walk = w.op === 'inval' && !w.firstErr ? { ...w, firstErr: r.ret } : w;
    return deviceFailed(s, input, walk, r.ret);
  }
  const bound = w.op === 'bind' ? [...w.bound, { domain: d.domain, dev: w.iommuDevice as string }] : w.bound;
  return stepWalk(s, input, { ...w, bound, i: w.i + 1, stage: 'resolve', iommuDevice: undefined });
}

// ---- attach_group (vfio_iommu_type1_attach_group) ------------------------------------------------

function attachGroup(s: VfioState, input: Envelope): Output[] {
  const p = input.payload as { step: number; vm: string; group: string; mdevs: string[] };
  const caller: Caller = { ...callerOf(input), to: 'orchestrator', step: p.step };
  const c = s.containers[p.vm];
  if (!c) return [answer(caller, { ret: -ERRNO.ENODEV })];
  if (s.policy!['vfio.singleton_nesting_container'] && c.nesting && (c.domain_list.length || c.external_domain.length)) {
    return [evt('attach_group.rejected', { vm: p.vm, group: p.group, errno: 'EINVAL', why: 'nesting container already has a group (singleton)' }), answer(caller, { ret: -ERRNO.EINVAL })];
  }
  const w: AttachWalk = { kind: 'attach', vm: p.vm, caller, group: p.group, devices: p.mdevs, resolved: [], stage: 'resolve', i: 0 };
  return [park(input, w), cmd('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: p.mdevs[0], tag: input.id })];
}

function attachReply(s: VfioState, input: Envelope, w: AttachWalk, r: Ret): Output[] {
  if (w.stage === 'resolve') {
    const resolved = [...w.resolved, (r.value as string | null) ?? null];
    if (resolved.length < w.devices.length) {
      const next = { ...w, resolved };
      return [park(input, next), cmd('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: w.devices[resolved.length], tag: input.id })];
    }
    // any device not IOMMU-backed, or a mix of parents: the group goes to external_domain, silently
    if (resolved.some((x) => x === null) || new Set(resolved).size > 1) {
      return [
        evt('group.attached', { vm: w.vm, group: w.group, devices: w.devices, where: 'external_domain', why: resolved.some((x) => x === null) ? 'a device is not IOMMU-backed' : 'mixed parents' }),
        answer(w.caller, { ret: 0 }),
      ];
    }
    const c = s.containers[w.vm]!;
    return [park(input, { ...w, resolved, stage: 'domain' }), cmd('host-vtd', 'iommu_domain_alloc', { vm: w.vm, nesting: c.nesting, tag: input.id })];
  }
  if (r.ret < 0) return [evt('attach_group.failed', { vm: w.vm, group: w.group, ret: r.ret }), answer(w.caller, { ret: r.oops ? r.ret : -ERRNO.EIO, ...(r.oops ? { oops: r.oops } : {}) })];
  if (w.stage === 'domain') {
    const { domain, did } = r.value as { domain: number; did: number };
    const next: AttachWalk = { ...w, stage: 'aux', domain, did, i: 0 };
    return [park(input, next), cmd('host-vtd', 'iommu_aux_attach_device', { vm: w.vm, domain, dev: w.resolved[0], mdev: w.devices[0], tag: input.id })];
  }
  const i = w.i + 1;
  if (i < w.devices.length) {
    return [park(input, { ...w, i }), cmd('host-vtd', 'iommu_aux_attach_device', { vm: w.vm, domain: w.domain, dev: w.resolved[i], mdev: w.devices[i], tag: input.id })];
  }
  const c = s.containers[w.vm]!;
  const out: Output[] = [evt('group.attached', { vm: w.vm, group: w.group, devices: w.devices, where: 'domain_list', domain: w.domain, did: w.did, nesting_info: c.nesting })];
  if (c.nesting && !c.vmm) out.push(evt('vfio_mm.get', { vm: w.vm }));
  out.push(answer(w.caller, { ret: 0 }));
  return out;
}

// ---- the decider -------------------------------------------------------------------------------

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
    case 'alloc': {
      if (r.ret < 0) return [resumed, evt('pasid_request.rejected', { vm: op.vm, errno: s.policy!['vfio.pasid_alloc_fail_errno'], why: 'ioasid_alloc failed' }), answer(op.caller, { ret: -ERRNO[s.policy!['vfio.pasid_alloc_fail_errno']] })];
      return [resumed, evt('pasid.allocated', { vm: op.vm, pasid: r.value }), answer(op.caller, { ret: r.value as number })];
    }
  }
}

export const vfioType1Decider: Decider<VfioState> = {
  component: 'vfio-type1',
  initialState: () => ({ containers: {}, ops: {} }),

  decide(s, input): Output[] {
    switch (input.type) {
      case 'run.open':
        return [evt('vfio.configured', { policy: (input.payload as RunOpen).policy })];
      case 'step.vfio_set_iommu': {
        const p = input.payload as { step: number; vm: string; nesting: boolean };
        return [evt('container.set_iommu', { vm: p.vm, type: p.nesting ? 'VFIO_TYPE1_NESTING_IOMMU' : 'VFIO_TYPE1v2_IOMMU', nesting: p.nesting }), cmd('orchestrator', 'step.completed', { step: p.step, outcome: { ret: 0 } })];
      }
      case 'step.vfio_attach_group':
        return attachGroup(s, input);
      case 'VFIO_IOMMU_PASID_REQUEST':
        return pasidRequest(s, input);
      case 'VFIO_IOMMU_NESTING_OP':
        return nestingOp(s, input);
      default:
        if (input.type.endsWith('.ret')) return onReply(s, input);
        return [evt('ignored', { why: `vfio-type1 has no handler for ${input.type}` })];
    }
  },

  evolve(s, o): VfioState {
    if (o.kind !== 'event') return s;
    const p = o.payload as Record<string, unknown> & { vm: string };
    const c = s.containers[p.vm];
    const setC = (next: Container) => ({ ...s, containers: put(s.containers, p.vm, next) });
    switch (o.type) {
      case 'vfio.configured':
        return { ...s, policy: p.policy as VfioState['policy'] };
      case 'container.set_iommu':
        return setC({ nesting: p.nesting as boolean, v2: true, domain_list: [], external_domain: [], groups: {}, nesting_info: false, vmm: null });
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
        return setC({ ...c!, vmm: { pasids: c!.vmm!.pasids.filter((x) => x !== p.pasid) } });
      case 'op.await':
        return { ...s, ops: put(s.ops, p.tag as string, p.op as VfioOp) };
      case 'op.resumed':
        return { ...s, ops: drop(s.ops, p.tag as string) };
      default:
        return s;
    }
  },
};
