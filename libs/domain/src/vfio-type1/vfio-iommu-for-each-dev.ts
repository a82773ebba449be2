import { ERRNO, NESTING_OP_NAMES, type Reply } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { answer, parked, type Caller } from '../request-reply.js';
import { evt, type DevFn, type VfioOut } from './common.js';
import { containersOf, hpasidOf, type NestKind, type NestWalk, type VfioState, type WalkDev } from './state.js';
import { vfioDevBindGpasidFn } from './vfio-dev-bind-gpasid-fn.js';
import { vfioDevCacheInvalidateFn } from './vfio-dev-cache-invalidate-fn.js';
import { vfioDevUnbindGpasidFn } from './vfio-dev-unbind-gpasid-fn.js';
import { afterUnbinds } from './vfio-iommu-type1-release.js';

/**
 * vfio_iommu_for_each_dev: the walk of every NESTING_OP (and of the unbinds of a FREE or a teardown)
 * over domain_list -> group_list -> devices, one device at a time: resolve its IOMMU device
 * (vfio_mdev_get_iommu_device for an mdev group), call the operation's per-device function, and
 * stop at the first error unless that function goes on. The walk waits for each reply, parked.
 */
const DEV_FN: Record<NestKind, DevFn> = { bind: vfioDevBindGpasidFn, unbind: vfioDevUnbindGpasidFn, inval: vfioDevCacheInvalidateFn };
const OP_NAME = { bind: NESTING_OP_NAMES[0], unbind: NESTING_OP_NAMES[1], inval: NESTING_OP_NAMES[2] } as const satisfies Record<NestKind, string>;

/** The operation a device gets now: the walk's, or the unbinds of a bind's unwind. */
const opNow = (w: NestWalk): NestKind => (w.unwinding ? 'unbind' : w.op);

/**
 * Starts a walk of `kind` on `vm`'s containers (`tag`: the id of the input handled now): every device
 * of each container with an IOMMU domain, container after container (QEMU issues the op on each
 * container that registered an IOMMU context). `thenFree`: the PASIDs of a FREE or a teardown,
 * unbound one walk each (`data` is { hpasid } of the first).
 */
export function startWalk(s: VfioState, tag: string, vm: string, kind: NestKind, data: object, caller: Caller, thenFree?: number[], teardown?: boolean): VfioOut[] {
  const devs: WalkDev[] = containersOf(s, vm).filter((c) => c.nesting_info).flatMap((c) =>
    c.domain_list.flatMap((d) => d.groups.flatMap((g) => c.groups[g]!.devices.map((dev) => ({ domain: d.domain, group: g, dev, mdev_group: c.groups[g]!.mdev_group })))));
  const walk: NestWalk = { kind: 'nest', op: kind, vm, caller, devs, i: 0, stage: 'resolve', bound: [], data, firstErr: 0, done: 0, ...(thenFree ? { thenFree } : {}), ...(teardown ? { teardown: true } : {}) };
  const started = evt('nesting_op.started', { vm, op: OP_NAME[kind], devices: devs.map((d) => d.dev), ...(thenFree ? { for: teardown ? 'teardown' : 'free', pasid: hpasidOf(walk) } : {}) });
  return [started, ...stepWalk(s, tag, walk)];
}

/** Next move of a walk: resolve the device, call the host, or finish. */
function stepWalk(s: VfioState, tag: string, w: NestWalk): VfioOut[] {
  if (w.i >= w.devs.length) {
    if (w.unwinding) return finishWalk(s, tag, w, w.unwinding.ret);
    // v2+ ignore the per-device errors of CACHE_INVLD and return 0
    return finishWalk(s, tag, w, 0);
  }
  const d = w.devs[w.i]!;
  if (w.stage === 'resolve') {
    if (!d.mdev_group) return stepWalk(s, tag, { ...w, stage: 'host', iommuDevice: d.dev });
    // iommu_device = vfio_mdev_get_iommu_device(dev)
    return [parked(tag, w), cmd('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: d.dev, tag })];
  }
  const iommuDevice = w.iommuDevice ?? null;
  if (iommuDevice === null && s.policy!['vfio.iommu_device_null_check']) {
    // v2+: every vfio_dev_*_fn starts with it: vfio_get_iommu_device() returned NULL -> -EINVAL, the IOMMU layer never sees it
    return [evt('iommu_device.null', { vm: w.vm, mdev: d.dev, op: opNow(w), errno: 'EINVAL' }), ...deviceFailed(s, tag, w, -ERRNO.EINVAL, true)];
  }
  return [parked(tag, w), DEV_FN[opNow(w)].call(w, d, iommuDevice, tag)];
}

const next = (w: NestWalk): NestWalk => ({ ...w, i: w.i + 1, stage: 'resolve', iommuDevice: undefined });

function deviceFailed(s: VfioState, tag: string, w: NestWalk, ret: number, nullDevice = false): VfioOut[] {
  if (w.unwinding) {
    // the unwind's unbinds fail as vfio_dev_unbind_gpasid_fn does (v1 stops, v2+ go on); the bind's error stays the answer
    const { then } = vfioDevUnbindGpasidFn.failed(s, w, ret, nullDevice);
    return 'next' in then ? stepWalk(s, tag, next(w)) : finishWalk(s, tag, w, w.unwinding.ret);
  }
  const { out, then } = DEV_FN[w.op].failed(s, w, ret, nullDevice);
  if ('next' in then) return [...out, ...stepWalk(s, tag, next(then.next))];
  if ('unwind' in then) return [...out, ...stepWalk(s, tag, { ...w, i: 0, stage: 'resolve', iommuDevice: undefined, unwinding: { ret: then.unwind } })];
  return [...out, ...finishWalk(s, tag, w, then.finish)];
}

function finishWalk(s: VfioState, tag: string, w: NestWalk, ret: number, oops?: string): VfioOut[] {
  const summary = DEV_FN[w.op].summary?.(s, w);
  const fin = evt('nesting_op.finished', { vm: w.vm, op: w.op, ret, oops: oops ?? null, ...(summary ? { entry_num: summary.entry_num } : {}) });
  if (w.thenFree && !oops) {
    // the PASIDs of a FREE (or of a teardown) leave the set only after their teardown
    const hpasid = hpasidOf(w);
    const nextPasid = w.thenFree[w.thenFree.findIndex((p) => p === hpasid) + 1];
    if (nextPasid !== undefined) return [fin, ...startWalk(s, tag, w.vm, 'unbind', { hpasid: nextPasid }, w.caller, w.thenFree, w.teardown)];
    return [fin, ...afterUnbinds(s, tag, w)];
  }
  return [fin, ...answer(w.caller, oops ? { ret, oops } : { ret, ...(summary?.reported ? { detail: { entry_num: summary.entry_num } } : {}) })];
}

/** The reply to the walk's pending request: the device's IOMMU device, or the result of its call. */
export function walkReply(s: VfioState, tag: string, w: NestWalk, r: Reply): VfioOut[] {
  if (w.stage === 'resolve') return stepWalk(s, tag, { ...w, stage: 'host', iommuDevice: typeof r.value === 'string' ? r.value : null });
  if (r.oops) return finishWalk(s, tag, w, r.ret, r.oops);
  if (r.ret < 0) return deviceFailed(s, tag, w, r.ret);
  const d = w.devs[w.i]!;
  return stepWalk(s, tag, { ...next(DEV_FN[opNow(w)].ok(w, d)), done: w.done + 1 });
}
