import { ERRNO, type Reply } from '../../../contracts/src/index.js';
import { cmd, type Command } from '../decider.js';
import { answer, callerOf, parked } from '../request-reply.js';
import { evt, openContainer, type VfioIn, type VfioOut } from './common.js';
import { containersOf, type AttachWalk, type Container, type ResolvedDev, type VfioState } from './state.js';

/** The check vfio_iommu_type1_attach_group makes before any device: a v2+ nesting container takes one group. */
const refuses = (s: VfioState, c: Container): boolean =>
  s.policy!['vfio.singleton_nesting_container'] && c.nesting && (c.domain_list.length > 0 || c.external_domain.length > 0);

/**
 * QEMU's vfio_connect_container, then vfio_iommu_type1_attach_group (DOMAIN.md §3, §7.15): the group
 * joins the first container of the VM that takes it (VFIO_GROUP_SET_CONTAINER); when every one refuses,
 * QEMU opens a new container of the same type. With `container` the step names one container, and
 * its refusal is the answer. Then: resolve every device, a domain, (aux-)attach.
 */
export function attachGroup(s: VfioState, input: VfioIn<'step.vfio_attach_group'>): VfioOut[] {
  const p = input.payload;
  const caller = callerOf(input);
  const cs = containersOf(s, p.vm);
  if (!cs.length) return answer(caller, { ret: -ERRNO.ENODEV });
  const rejected = (c: Container) => evt('attach_group.rejected', { vm: p.vm, container: c.id, group: p.group, errno: 'EINVAL', why: 'nesting container already has a group (singleton)' });
  const start = (container: string): VfioOut[] => {
    const w: AttachWalk = { kind: 'attach', vm: p.vm, container, caller, group: p.group, devices: p.mdevs, resolved: [], stage: 'resolve', i: 0 };
    return [parked(input.id, w), cmd('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: p.mdevs[0]!, tag: input.id })];
  };
  if (p.container !== undefined) {
    const c = s.containers[p.container];
    if (!c || c.vm !== p.vm) return answer(caller, { ret: -ERRNO.ENODEV });
    return refuses(s, c) ? [rejected(c), ...answer(caller, { ret: -ERRNO.EINVAL })] : start(c.id);
  }
  const taker = cs.find((c) => !refuses(s, c));
  if (taker) return start(taker.id);
  // every container refused (-EINVAL): QEMU opens another, VFIO_SET_IOMMU of the first's type
  const opened = openContainer(s, p.vm, cs[0]!.nesting, `no container of ${p.vm} took group ${p.group}`);
  return [...cs.map(rejected), opened.event, ...start(opened.container)];
}

function attachCall(tag: string, w: AttachWalk & { stage: 'attach' }, i: number): Command {
  const r = w.resolved[i]!;
  // IOMMU_DEV_FEAT_AUX -> iommu_aux_attach_device(domain, parent), else iommu_attach_device
  return cmd('host-vtd', r.aux ? 'iommu_aux_attach_device' : 'iommu_attach_device', { vm: w.vm, domain: w.domain, dev: r.iommuDevice, mdev: w.devices[i]!, tag });
}

/** vfio_mdev_get_iommu_device's answer: the device (NULL: not IOMMU-backed), its parent, whether it attaches aux. */
function resolvedOf(r: Reply): ResolvedDev {
  const parent = r.detail?.parent, aux = r.detail?.aux;
  return { iommuDevice: typeof r.value === 'string' ? r.value : null, parent: typeof parent === 'string' ? parent : null, aux: typeof aux === 'boolean' ? aux : true };
}

/** iommu_domain_alloc's answer: the domain and its DID. */
function domainOf(v: unknown): { domain: number; did: number } | null {
  if (typeof v !== 'object' || v === null || !('domain' in v) || !('did' in v)) return null;
  const { domain, did } = v;
  return typeof domain === 'number' && typeof did === 'number' ? { domain, did } : null;
}

/** The reply to the attach's pending request (`tag`: the reply's id, which tags the next request). */
export function attachReply(s: VfioState, tag: string, w: AttachWalk, r: Reply): VfioOut[] {
  if (w.stage === 'resolve') {
    const resolved = [...w.resolved, resolvedOf(r)];
    if (resolved.length < w.devices.length) {
      return [parked(tag, { ...w, resolved }), cmd('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: w.devices[resolved.length]!, tag })];
    }
    const anyNull = resolved.some((x) => x.iommuDevice === null);
    const mixed = new Set(resolved.map((x) => x.iommuDevice)).size > 1;
    if (anyNull || mixed) {
      const why = anyNull ? (resolved.every((x) => x.iommuDevice === null) ? 'no device is IOMMU-backed' : 'a device is not IOMMU-backed') : 'mixed parents';
      const odd = mixed || (anyNull && resolved.some((x) => x.iommuDevice !== null));
      if (odd && s.policy!['vfio.mixed_group'] === 'EINVAL') {
        return [evt('attach_group.rejected', { vm: w.vm, group: w.group, errno: 'EINVAL', why: `${why}: refused at attach` }), ...answer(w.caller, { ret: -ERRNO.EINVAL })];
      }
      // any device not IOMMU-backed, or a mix of parents: the group goes to external_domain, silently
      return [
        evt('group.attached', { vm: w.vm, container: w.container, group: w.group, devices: w.devices, where: 'external_domain', why, iommuDevices: resolved.map((x) => x.iommuDevice) }),
        ...answer(w.caller, { ret: 0 }),
      ];
    }
    const c = s.containers[w.container]!;
    return [parked(tag, { ...w, resolved, stage: 'domain' }), cmd('host-vtd', 'iommu_domain_alloc', { vm: w.vm, nesting: c.nesting, tag })];
  }
  const failed = [evt('attach_group.failed', { vm: w.vm, group: w.group, ret: r.ret }), ...answer(w.caller, { ret: r.oops ? r.ret : -ERRNO.EIO, ...(r.oops ? { oops: r.oops } : {}) })];
  if (w.stage === 'attach' && (r.ret < 0 || r.oops)) {
    // out_detach / out_domain: the devices attached so far are detached, the domain freed, the attach's errno returned
    return [
      evt('attach_group.failed', { vm: w.vm, group: w.group, ret: r.ret }),
      ...w.devices.slice(0, w.i).map((mdev) => cmd('host-vtd', 'iommu_aux_detach_device', { vm: w.vm, domain: w.domain, mdev, noreply: true })),
      cmd('host-vtd', 'iommu_domain_free', { vm: w.vm, domain: w.domain, noreply: true }),
      ...answer(w.caller, { ret: r.ret, ...(r.oops ? { oops: r.oops } : {}) }),
    ];
  }
  if (r.ret < 0 || r.oops) return failed;
  if (w.stage === 'domain') {
    // a success without a domain is not something the host answers; it would fail as an error does
    const allocated = domainOf(r.value);
    if (!allocated) return failed;
    const nextW = { ...w, stage: 'attach' as const, ...allocated, i: 0 };
    return [parked(tag, nextW), attachCall(tag, nextW, 0)];
  }
  const i = w.i + 1;
  if (i < w.devices.length) return [parked(tag, { ...w, i }), attachCall(tag, w, i)];
  const c = s.containers[w.container]!;
  const out: VfioOut[] = [evt('group.attached', { vm: w.vm, container: c.id, group: w.group, devices: w.devices, where: 'domain_list', domain: w.domain, did: w.did, nesting_info: c.nesting })];
  if (c.nesting && !c.vmm) out.push(evt('vfio_mm.get', { vm: w.vm, container: c.id }));
  out.push(...answer(w.caller, { ret: 0 }));
  return out;
}
