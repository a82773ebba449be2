import { ERRNO, type Envelope } from '../../../contracts/src/index.js';
import { cmd, evt, type Output, type Ret } from '../decider.js';
import { answer, callerOf, park } from './common.js';
import type { AttachWalk, VfioState } from './state.js';

/** vfio_iommu_type1_attach_group (DOMAIN.md §3): resolve every device, then a domain, then (aux-)attach. */
export function attachGroup(s: VfioState, input: Envelope): Output[] {
  const p = input.payload as { step: number; vm: string; group: string; mdevs: string[] };
  const caller = callerOf(input);
  const c = s.containers[p.vm];
  if (!c) return [answer(caller, { ret: -ERRNO.ENODEV })];
  if (s.policy!['vfio.singleton_nesting_container'] && c.nesting && (c.domain_list.length || c.external_domain.length)) {
    return [evt('attach_group.rejected', { vm: p.vm, group: p.group, errno: 'EINVAL', why: 'nesting container already has a group (singleton)' }), answer(caller, { ret: -ERRNO.EINVAL })];
  }
  const w: AttachWalk = { kind: 'attach', vm: p.vm, caller, group: p.group, devices: p.mdevs, resolved: [], stage: 'resolve', i: 0 };
  return [park(input, w), cmd('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: p.mdevs[0], tag: input.id })];
}

function attachCall(input: Envelope, w: AttachWalk, i: number): Output {
  const r = w.resolved[i]!;
  // IOMMU_DEV_FEAT_AUX -> iommu_aux_attach_device(domain, parent), else iommu_attach_device
  return cmd('host-vtd', r.aux ? 'iommu_aux_attach_device' : 'iommu_attach_device', { vm: w.vm, domain: w.domain!, dev: r.iommuDevice, mdev: w.devices[i]!, tag: input.id });
}

export function attachReply(s: VfioState, input: Envelope, w: AttachWalk, r: Ret): Output[] {
  if (w.stage === 'resolve') {
    const d = r.detail as { parent?: string | null; aux?: boolean } | undefined;
    const resolved = [...w.resolved, { iommuDevice: (r.value as string | null) ?? null, parent: d?.parent ?? null, aux: d?.aux ?? true }];
    if (resolved.length < w.devices.length) {
      return [park(input, { ...w, resolved }), cmd('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: w.devices[resolved.length], tag: input.id })];
    }
    const anyNull = resolved.some((x) => x.iommuDevice === null);
    const mixed = new Set(resolved.map((x) => x.iommuDevice)).size > 1;
    if (anyNull || mixed) {
      const why = anyNull ? (resolved.every((x) => x.iommuDevice === null) ? 'no device is IOMMU-backed' : 'a device is not IOMMU-backed') : 'mixed parents';
      const odd = mixed || (anyNull && resolved.some((x) => x.iommuDevice !== null));
      if (odd && s.policy!['vfio.mixed_group'] === 'EINVAL') {
        return [evt('attach_group.rejected', { vm: w.vm, group: w.group, errno: 'EINVAL', why: `${why}: refused at attach` }), answer(w.caller, { ret: -ERRNO.EINVAL })];
      }
      // any device not IOMMU-backed, or a mix of parents: the group goes to external_domain, silently
      return [
        evt('group.attached', { vm: w.vm, group: w.group, devices: w.devices, where: 'external_domain', why, iommuDevices: resolved.map((x) => x.iommuDevice) }),
        answer(w.caller, { ret: 0 }),
      ];
    }
    const c = s.containers[w.vm]!;
    return [park(input, { ...w, resolved, stage: 'domain' }), cmd('host-vtd', 'iommu_domain_alloc', { vm: w.vm, nesting: c.nesting, tag: input.id })];
  }
  if (r.ret < 0 || r.oops) return [evt('attach_group.failed', { vm: w.vm, group: w.group, ret: r.ret }), answer(w.caller, { ret: r.oops ? r.ret : -ERRNO.EIO, ...(r.oops ? { oops: r.oops } : {}) })];
  if (w.stage === 'domain') {
    const { domain, did } = r.value as { domain: number; did: number };
    const nextW: AttachWalk = { ...w, stage: 'attach', domain, did, i: 0 };
    return [park(input, nextW), attachCall(input, nextW, 0)];
  }
  const i = w.i + 1;
  if (i < w.devices.length) return [park(input, { ...w, i }), attachCall(input, w, i)];
  const c = s.containers[w.vm]!;
  const out: Output[] = [evt('group.attached', { vm: w.vm, group: w.group, devices: w.devices, where: 'domain_list', domain: w.domain, did: w.did, nesting_info: c.nesting })];
  if (c.nesting && !c.vmm) out.push(evt('vfio_mm.get', { vm: w.vm }));
  out.push(answer(w.caller, { ret: 0 }));
  return out;
}
