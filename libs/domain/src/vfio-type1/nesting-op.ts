import { ERRNO, NESTING_OP_MASK, NESTING_OP_MINSZ, NESTING_OP_NAMES, type Envelope, type ErrnoName, type NestingOp } from '../../../contracts/src/index.js';
import { cmd, evt, type Output, type Ret } from '../decider.js';
import { answer, callerOf, park } from './common.js';
import type { Caller, NestKind, NestWalk, VfioState, WalkDev } from './state.js';

const HOST_CALL = {
  bind: 'iommu_sva_bind_gpasid',
  unbind: 'iommu_sva_unbind_gpasid',
  inval: 'iommu_cache_invalidate',
} as const satisfies Record<NestKind, string>;
const OP_NAME: Record<NestKind, string> = { bind: 'BIND_PGTBL', unbind: 'UNBIND_PGTBL', inval: 'CACHE_INVLD' };

/** VFIO_IOMMU_NESTING_OP (handle_pgtbl_op / vfio_iommu_type1_cache_invalidate, DOMAIN.md §2.2.4, §2.4). */
export function nestingOp(s: VfioState, input: Envelope): Output[] {
  const { vm, op } = input.payload as { vm: string; op: NestingOp };
  const caller = callerOf(input);
  const c = s.containers[vm];
  const flags = op && typeof op === 'object' ? op.flags : undefined;
  const code = Number.isInteger(flags) ? (flags as number) & NESTING_OP_MASK : -1;
  const kind: NestKind | undefined = (['bind', 'unbind', 'inval'] as const)[code];
  const fail = (errno: ErrnoName, why: string) => [evt('nesting_op.rejected', { vm, op: NESTING_OP_NAMES[code] ?? code, errno, why }), answer(caller, { ret: -ERRNO[errno] })];
  if (!c) return fail('ENODEV', 'no container');
  if (!op || typeof op !== 'object' || !Number.isInteger(op.argsz) || op.argsz < NESTING_OP_MINSZ) return fail('EINVAL', 'argsz < minsz');
  if (!kind || (flags as number) < 0 || (flags as number) > NESTING_OP_MASK) return fail('EINVAL', 'unknown op or flags beyond the op bits');
  // nesting_info is set only on the domain path: an external-only container has no BIND_PGTBL/CACHE_INVLD
  if (!c.nesting_info) return fail('EOPNOTSUPP', 'no nesting_info: the container has no IOMMU domain (external_domain only)');
  if ((kind === 'bind' || kind === 'unbind') && !c.vmm) return fail('EINVAL', 'no vfio_mm');
  const data = op.data && typeof op.data === 'object' && !Array.isArray(op.data) ? op.data : {};
  return startWalk(s, input, vm, kind, data, caller);
}

/** Starts a for_each_dev walk over domain_list -> group_list -> devices. */
export function startWalk(s: VfioState, input: Envelope, vm: string, kind: NestKind, data: Record<string, unknown>, caller: Caller, thenFree?: number[], teardown?: boolean): Output[] {
  const c = s.containers[vm]!;
  const devs: WalkDev[] = c.domain_list.flatMap((d) => d.groups.flatMap((g) => c.groups[g]!.devices.map((dev) => ({ domain: d.domain, group: g, dev, mdev_group: c.groups[g]!.mdev_group }))));
  const walk: NestWalk = { kind: 'nest', op: kind, vm, caller, devs, i: 0, stage: 'resolve', bound: [], data, firstErr: 0, done: 0, ...(thenFree ? { thenFree } : {}), ...(teardown ? { teardown: true } : {}) };
  return [evt('nesting_op.started', { vm, op: OP_NAME[kind], devices: devs.map((d) => d.dev), ...(thenFree ? { for: teardown ? 'teardown' : 'free', pasid: data.hpasid } : {}) }), ...stepWalk(s, input, walk)];
}

const hpasidOf = (w: NestWalk) => (w.data as { hpasid?: unknown }).hpasid;

/** Next move of a walk: resolve the device, call the host, or finish. */
function stepWalk(s: VfioState, input: Envelope, w: NestWalk): Output[] {
  if (w.i >= w.devs.length) {
    if (w.unwinding) return finishWalk(s, input, w, w.unwinding.ret);
    // v2+ ignore the per-device errors of CACHE_INVLD and return 0
    return finishWalk(s, input, w, 0);
  }
  const d = w.devs[w.i]!;
  if (w.stage === 'resolve') {
    if (!d.mdev_group) return stepWalk(s, input, { ...w, stage: 'host', iommuDevice: d.dev });
    // iommu_device = vfio_mdev_get_iommu_device(dev)
    return [park(input, w), cmd('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: d.dev, tag: input.id })];
  }
  const iommuDevice = w.iommuDevice ?? null;
  const op = w.unwinding ? 'unbind' : w.op;
  if (iommuDevice === null && s.policy!['vfio.iommu_device_null_check']) {
    // v2+: vfio_get_iommu_device() returned NULL -> -EINVAL, the IOMMU layer never sees it
    return [evt('iommu_device.null', { vm: w.vm, mdev: d.dev, op, errno: 'EINVAL' }), ...deviceFailed(s, input, w, -ERRNO.EINVAL)];
  }
  const args = op === 'bind' ? { data: w.data } : op === 'unbind' ? { data: w.data, pasid: hpasidOf(w) } : { info: w.data };
  return [park(input, w), cmd('host-vtd', HOST_CALL[op], { vm: w.vm, domain: d.domain, dev: iommuDevice, mdev: d.dev, ...args, ...(w.unwinding ? { unwind: true } : {}), tag: input.id })];
}

const next = (w: NestWalk): NestWalk => ({ ...w, i: w.i + 1, stage: 'resolve', iommuDevice: undefined });

function deviceFailed(s: VfioState, input: Envelope, w: NestWalk, ret: number): Output[] {
  if (w.unwinding) return finishWalk(s, input, w, w.unwinding.ret); // for_each_dev stops the unwind too
  if (w.op === 'inval') {
    const policy = s.policy!['vfio.cache_invld_errors'];
    const walk = w.firstErr ? w : { ...w, firstErr: ret };
    // v2+: per-device errors are ignored and the walk goes on (bug #3)
    if (policy === 'ignore') return stepWalk(s, input, next(walk));
    return finishWalk(s, input, walk, ret);
  }
  if (w.op === 'bind') {
    if (s.policy!['vfio.bind_unwind'] === 'for_each_dev') {
      // v1: "Undo all binds that already succeeded" by walking every device again (and stopping at the first error)
      return [evt('bind.unwind', { vm: w.vm, how: 'for_each_dev', devices: w.devs.map((d) => d.dev) }), ...stepWalk(s, input, { ...w, i: 0, stage: 'resolve', iommuDevice: undefined, unwinding: { ret } })];
    }
    // unbind exactly the devices this call bound (unbind never fails, so nothing is awaited)
    const undo = w.bound.map((b) => cmd('host-vtd', 'iommu_sva_unbind_gpasid', { vm: w.vm, domain: b.domain, dev: b.dev, mdev: b.mdev, pasid: hpasidOf(w), noreply: true, unwind: true }));
    return [evt('bind.unwind', { vm: w.vm, how: 'bound_only', devices: w.bound.map((b) => b.mdev) }), ...undo, ...finishWalk(s, input, w, ret)];
  }
  return finishWalk(s, input, w, ret);
}

function finishWalk(s: VfioState, input: Envelope, w: NestWalk, ret: number, oops?: string): Output[] {
  const detail = w.op === 'inval' ? { entry_num: w.done } : undefined;
  const fin = evt('nesting_op.finished', { vm: w.vm, op: w.op, ret, oops: oops ?? null, ...(detail ?? {}) });
  if (w.thenFree && !oops) {
    // the PASIDs of a FREE (or of a teardown) leave the set only after their teardown
    const at = w.thenFree.indexOf(hpasidOf(w) as number);
    const nextPasid = w.thenFree[at + 1];
    if (nextPasid !== undefined) return [fin, ...startWalk(s, input, w.vm, 'unbind', { hpasid: nextPasid }, w.caller, w.thenFree, w.teardown)];
    return [fin, ...afterTeardown(s, w)];
  }
  return [fin, answer(w.caller, oops ? { ret, oops } : { ret, ...(detail && s.policy!['vfio.cache_invld_errors'] === 'report' ? { detail } : {}) })];
}

/** After the unbinds of a FREE or a VM teardown: free the PASIDs, detach, answer. */
export function afterTeardown(s: VfioState, w: { vm: string; caller: Caller; thenFree?: number[]; teardown?: boolean }): Output[] {
  const freed = (w.thenFree ?? []).flatMap((pasid) => [evt('pasid.freed', { vm: w.vm, pasid }), cmd('host-vtd', 'ioasid_free', { set: w.vm, pasid, noreply: true })]);
  if (!w.teardown) return [...freed, answer(w.caller, { ret: 0 })];
  const c = s.containers[w.vm]!;
  const detach = c.domain_list.flatMap((d) => d.groups.flatMap((g) => c.groups[g]!.devices.map((mdev) => cmd('host-vtd', 'iommu_aux_detach_device', { vm: w.vm, domain: d.domain, mdev, noreply: true }))));
  const domains = c.domain_list.map((d) => cmd('host-vtd', 'iommu_domain_free', { vm: w.vm, domain: d.domain, noreply: true }));
  return [...freed, ...detach, ...domains, evt('container.released', { vm: w.vm, pins: Object.keys(c.pins).length }), answer(w.caller, { ret: 0 })];
}

export function walkReply(s: VfioState, input: Envelope, w: NestWalk, r: Ret): Output[] {
  if (w.stage === 'resolve') return stepWalk(s, input, { ...w, stage: 'host', iommuDevice: (r.value as string | null) ?? null });
  if (r.oops) return finishWalk(s, input, w, r.ret, r.oops);
  const d = w.devs[w.i]!;
  if (r.ret < 0) return deviceFailed(s, input, w, r.ret);
  const bound = w.op === 'bind' && !w.unwinding ? [...w.bound, { domain: d.domain, dev: w.iommuDevice as string, mdev: d.dev }] : w.bound;
  return stepWalk(s, input, { ...next(w), bound, done: w.done + 1 });
}
