import {
  ERRNO, IOMMU_CACHE_INV_TYPE_DEV_IOTLB, IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_CACHE_INV_TYPE_PASID, IOMMU_INV_GRANU_ADDR,
  IOMMU_INV_GRANU_PASID, PGTT_NESTED, PGTT_SL_ONLY, type CacheInvalidateInfo, type Envelope, type GpasidBindData,
} from '../../../contracts/src/index.js';
import { drop, evt, put, reply, type Decider, type Output, type Ret } from '../decider.js';
import { PASID_MAX, type RunOpen } from '../topology.js';
import { checkBindGpasid } from './bind-gpasid.js';
import type { HostVtdState, PasidEntry } from './state.js';

type P = Record<string, unknown> & { vm: string; domain: number; dev: string | null; tag?: string; noreply?: boolean };

/** Reply unless the caller said it will not wait (unwinds, frees). */
const answer = (input: Envelope, r: Ret): Output[] => ((input.payload as P).noreply ? [] : [reply(input, r)]);

/** A host driver entry point handed a NULL device: the machine oopses in `fn`. */
function oops(input: Envelope, fn: string, detail: string): Output[] {
  return [evt('oops', { fn, what: 'BUG: kernel NULL pointer dereference', detail, vm: (input.payload as P).vm }), ...answer(input, { ret: -ERRNO.EFAULT, oops: fn })];
}

function firstFree(s: HostVtdState, min: number, max: number): number | null {
  for (let p = Math.max(min, 1); p <= Math.min(max, PASID_MAX - 1); p++) if (!s.ioasid[p]) return p;
  return null;
}

function bindGpasid(s: HostVtdState, input: Envelope): Output[] {
  const p = input.payload as P & { data?: GpasidBindData };
  // device_to_iommu(dev) dereferences dev->bus before any check: a NULL dev never reaches "!iommu"
  if (p.dev === null || p.dev === undefined) return oops(input, 'intel_svm_bind_gpasid', 'device_to_iommu(dev=NULL) called from iommu_sva_bind_gpasid');
  const rej = checkBindGpasid(s, p.domain, p.dev, p.data);
  if (rej) return [evt('bind_gpasid.rejected', { vm: p.vm, dev: p.dev, hpasid: p.data?.hpasid ?? null, errno: rej.errno, why: rej.why }), ...answer(input, { ret: -ERRNO[rej.errno] })];
  const d = p.data!;
  const did = s.domains[p.domain]!.did;
  const entry: PasidEntry = { p: true, fpd: false, pgtt: PGTT_NESTED, flptr: d.gpgd, did, aw: d.addr_width };
  return [
    evt('svm.bound', { vm: p.vm, dev: p.dev, domain: p.domain, hpasid: d.hpasid, gpasid: d.gpasid, sid: p.dev }),
    evt('pasid_entry.set', { dev: p.dev, pasid: d.hpasid, entry, via: 'intel_pasid_setup_nested' }),
    ...answer(input, { ret: 0 }),
  ];
}

function unbindGpasid(s: HostVtdState, input: Envelope): Output[] {
  const p = input.payload as P & { pasid: number };
  if (p.dev === null || p.dev === undefined) return oops(input, 'intel_svm_unbind_gpasid', 'device_to_iommu(dev=NULL) called from iommu_sva_unbind_gpasid');
  const sdev = s.svm[p.pasid]?.devs[p.dev];
  // no sdev: return 0 silently
  if (!sdev) return [evt('unbind_gpasid.noop', { vm: p.vm, dev: p.dev, pasid: p.pasid }), ...answer(input, { ret: 0 })];
  // intel_pasid_tear_down_entry, then the page-request drain, then the sdev is freed
  return [
    evt('pasid_entry.cleared', { dev: p.dev, pasid: p.pasid, via: 'intel_pasid_tear_down_entry' }),
    evt('svm.unbound', { vm: p.vm, dev: p.dev, hpasid: p.pasid, unwind: !!p.unwind }),
    ...answer(input, { ret: 0 }),
  ];
}

function cacheInvalidate(s: HostVtdState, input: Envelope): Output[] {
  const p = input.payload as P & { info?: CacheInvalidateInfo };
  const info = p.info;
  const no = (errno: keyof typeof ERRNO, why: string) => [evt('sva_invalidate.rejected', { vm: p.vm, dev: p.dev, errno, why }), ...answer(input, { ret: -ERRNO[errno] })];
  if (!info || typeof info !== 'object' || !s.domains[p.domain]) return no('EINVAL', 'no info or no domain');
  // intel_iommu_sva_invalidate checks dev before using it: a NULL dev is -ENODEV, not an oops
  if (p.dev === null || p.dev === undefined || !s.devices[p.dev]) return no('ENODEV', 'dev is NULL, not PCI, or has no IOMMU');
  if (!s.domains[p.domain]!.nesting) return no('EINVAL', 'domain is not nesting');
  const pasid = info.granularity === IOMMU_INV_GRANU_ADDR ? info.addr_info?.pasid : info.pasid_info?.pasid;
  const flushed: string[] = [];
  for (const type of [IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_CACHE_INV_TYPE_DEV_IOTLB, IOMMU_CACHE_INV_TYPE_PASID]) {
    if (!(info.cache & type)) continue;
    const supported =
      (type === IOMMU_CACHE_INV_TYPE_IOTLB && (info.granularity === IOMMU_INV_GRANU_PASID || info.granularity === IOMMU_INV_GRANU_ADDR)) ||
      (type === IOMMU_CACHE_INV_TYPE_DEV_IOTLB && info.granularity === IOMMU_INV_GRANU_ADDR);
    // a rejected type x granularity breaks out of the loop with ret = 0: success is reported (bug #5)
    if (!supported) break;
    flushed.push(type === IOMMU_CACHE_INV_TYPE_IOTLB ? 'PIOTLB' : 'DEVTLB');
  }
  return [evt('sva_invalidate.done', { vm: p.vm, dev: p.dev, pasid: pasid ?? 0, flushed }), ...answer(input, { ret: 0 })];
}

export const hostVtdDecider: Decider<HostVtdState> = {
  component: 'host-vtd',
  initialState: () => ({ devices: {}, ioasid: {}, domains: {}, nextDomain: 1, nextDid: 2, svm: {}, pasidTable: {}, oops: null }),

  decide(s, input): Output[] {
    const p = input.payload as P;
    if (input.type === 'run.open') {
      const o = input.payload as RunOpen;
      const devices = Object.fromEntries(o.topology.parents.filter((x) => x.kind === 'iommu-backed').map((x) => [x.rid!, { parent: x.id, ats: x.ats, pri: x.pri }]));
      return [evt('host.configured', { host: o.topology.host, devices, policy: o.policy })];
    }
    // a dead machine answers nothing usefully: every caller sees the oops
    if (s.oops) return answer(input, { ret: -ERRNO.EIO, oops: s.oops.fn });
    switch (input.type) {
      case 'ioasid_alloc': {
        const pasid = firstFree(s, p.min as number, p.max as number);
        if (pasid === null) return [evt('ioasid.exhausted', { set: p.set }), ...answer(input, { ret: -ERRNO.ENOSPC })];
        return [evt('ioasid.allocated', { set: p.set, pasid }), ...answer(input, { ret: 0, value: pasid })];
      }
      case 'ioasid_free': {
        const pasid = p.pasid as number;
        if (s.ioasid[pasid]?.set !== p.set) return [evt('ioasid.free_ignored', { set: p.set, pasid }), ...answer(input, { ret: 0 })];
        return [evt('ioasid.freed', { set: p.set, pasid }), ...answer(input, { ret: 0 })];
      }
      case 'iommu_domain_alloc': {
        const domain = s.nextDomain, did = s.nextDid;
        return [evt('domain.allocated', { vm: p.vm, domain, did, nesting: !!p.nesting }), ...answer(input, { ret: 0, value: { domain, did } })];
      }
      case 'iommu_aux_attach_device': {
        if (p.dev === null || p.dev === undefined) return oops(input, 'intel_iommu_aux_attach_device', 'aux attach of a NULL device');
        if (!s.devices[p.dev] || !s.domains[p.domain]) return answer(input, { ret: -ERRNO.ENODEV });
        // the aux domain's default PASID comes from the host's own set
        const pasid = firstFree(s, 1, PASID_MAX - 1);
        if (pasid === null) return answer(input, { ret: -ERRNO.ENOSPC });
        return [
          evt('ioasid.allocated', { set: 'host', pasid }),
          evt('aux.attached', { vm: p.vm, domain: p.domain, dev: p.dev, mdev: p.mdev, defaultPasid: pasid }),
          evt('pasid_entry.set', { dev: p.dev, pasid, entry: { p: true, fpd: false, pgtt: PGTT_SL_ONLY, flptr: 0, did: s.domains[p.domain]!.did, aw: 48 }, via: 'aux domain default PASID' }),
          ...answer(input, { ret: 0, value: pasid }),
        ];
      }
      case 'iommu_sva_bind_gpasid':
        return bindGpasid(s, input);
      case 'iommu_sva_unbind_gpasid':
        return unbindGpasid(s, input);
      case 'iommu_cache_invalidate':
        return cacheInvalidate(s, input);
      default:
        return [evt('ignored', { why: `host-vtd has no handler for ${input.type}` })];
    }
  },

  evolve(s, o): HostVtdState {
    if (o.kind !== 'event') return s;
    const p = o.payload as Record<string, unknown>;
    switch (o.type) {
      case 'host.configured':
        return { ...s, host: p.host as HostVtdState['host'], devices: p.devices as HostVtdState['devices'], policy: p.policy as HostVtdState['policy'] };
      case 'oops':
        return { ...s, oops: { fn: p.fn as string } };
      case 'ioasid.allocated':
        return { ...s, ioasid: put(s.ioasid, p.pasid as number, { set: p.set as string }) };
      case 'ioasid.freed':
        return { ...s, ioasid: drop(s.ioasid, p.pasid as number) };
      case 'domain.allocated':
        return { ...s, nextDomain: s.nextDomain + 1, nextDid: s.nextDid + 1, domains: put(s.domains, p.domain as number, { vm: p.vm as string, nesting: p.nesting as boolean, did: p.did as number, devs: {} }) };
      case 'aux.attached': {
        const d = s.domains[p.domain as number]!;
        const dev = p.dev as string;
        const prev = d.devs[dev];
        const devs = put(d.devs, dev, { mdevs: [...(prev?.mdevs ?? []), p.mdev as string], defaultPasid: prev?.defaultPasid ?? (p.defaultPasid as number) });
        return { ...s, domains: put(s.domains, p.domain as number, { ...d, devs }) };
      }
      case 'pasid_entry.set':
        return { ...s, pasidTable: put(s.pasidTable, p.dev as string, put(s.pasidTable[p.dev as string] ?? {}, p.pasid as number, p.entry as PasidEntry)) };
      case 'pasid_entry.cleared':
        return { ...s, pasidTable: put(s.pasidTable, p.dev as string, drop(s.pasidTable[p.dev as string] ?? {}, p.pasid as number)) };
      case 'svm.bound': {
        const pasid = p.hpasid as number;
        const svm = s.svm[pasid] ?? { gpasid: p.gpasid as number, vm: p.vm as string, guestMode: true, devs: {} };
        return { ...s, svm: put(s.svm, pasid, { ...svm, devs: put(svm.devs, p.dev as string, { sid: p.sid as string, users: 1, domain: p.domain as number }) }) };
      }
      case 'svm.unbound': {
        const pasid = p.hpasid as number;
        const svm = s.svm[pasid]!;
        const devs = drop(svm.devs, p.dev as string);
        return { ...s, svm: Object.keys(devs).length ? put(s.svm, pasid, { ...svm, devs }) : drop(s.svm, pasid) };
      }
      default:
        return s;
    }
  },
};
