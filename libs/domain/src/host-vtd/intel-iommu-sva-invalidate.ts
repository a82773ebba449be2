import {
  CACHE_INVALIDATE_INFO_ADDR_INFO_END, CACHE_INVALIDATE_INFO_GRANU_OFFSET, CACHE_INVALIDATE_INFO_PASID_INFO_END, ERRNO,
  IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, IOMMU_CACHE_INV_TYPE_DEV_IOTLB, IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_CACHE_INV_TYPE_PASID,
  IOMMU_INV_ADDR_FLAGS_ARCHID, IOMMU_INV_ADDR_FLAGS_LEAF, IOMMU_INV_ADDR_FLAGS_PASID, IOMMU_INV_GRANU_ADDR, IOMMU_INV_GRANU_DOMAIN,
  IOMMU_INV_GRANU_PASID, IOMMU_INV_PASID_FLAGS_ARCHID, IOMMU_INV_PASID_FLAGS_PASID, type CacheInvalidateInfo, type ErrnoName, type PolicyValues,
} from '../../../contracts/src/index.js';
import { answer, callerOf, parked } from '../request-reply.js';
import { devtlbFlush, flushPiotlb } from './caches.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState } from './state.js';

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const GRANU_NAME = ['DOMAIN', 'PASID', 'ADDR'];
const TYPE_NAME: Record<number, string> = { [IOMMU_CACHE_INV_TYPE_IOTLB]: 'IOTLB', [IOMMU_CACHE_INV_TYPE_DEV_IOTLB]: 'DEV_IOTLB', [IOMMU_CACHE_INV_TYPE_PASID]: 'PASID' };

/**
 * iommu_uapi_cache_invalidate + iommu_check_cache_invl_data: the core's copy of the user struct and its
 * checks; the struct as the driver reads it from here on, or why it is refused. argsz first: it must
 * reach the granu union (16), and the member the granularity reads: pasid_info (32) or addr_info (56)
 * (DOMAIN.md §7.6); then the content.
 */
function copyInvalidateInfo(info: object, pasidMax: number, policy: PolicyValues): string | { info: CacheInvalidateInfo } {
  // read as the user's struct, each field possibly absent (and of any type: each is checked before use)
  const i: Partial<CacheInvalidateInfo> = info;
  if (!isInt(i.argsz) || i.argsz < CACHE_INVALIDATE_INFO_GRANU_OFFSET) return 'argsz < offsetof(iommu_cache_invalidate_info, granu)';
  if (i.granularity === IOMMU_INV_GRANU_PASID && i.argsz < CACHE_INVALIDATE_INFO_PASID_INFO_END) return 'argsz < offsetofend(iommu_cache_invalidate_info, granu.pasid_info)';
  if (i.granularity === IOMMU_INV_GRANU_ADDR && i.argsz < CACHE_INVALIDATE_INFO_ADDR_INFO_END) return 'argsz < offsetofend(iommu_cache_invalidate_info, granu.addr_info)';
  if (i.version !== IOMMU_CACHE_INVALIDATE_INFO_VERSION_1) return `version ${String(i.version)} is not 1`;
  if (!isInt(i.cache) || i.cache & ~7) return 'unknown cache type bits';
  if (!isInt(i.granularity) || i.granularity > IOMMU_INV_GRANU_ADDR) return 'granularity >= IOMMU_INV_GRANU_NR';
  // v5.10+: the core refuses two combinations before the driver's map sees them (and answers 0 for them, bug #5)
  if (policy['iommu.core_rejects_invalid_granu']) {
    if (i.granularity === IOMMU_INV_GRANU_ADDR && i.cache & IOMMU_CACHE_INV_TYPE_PASID) return 'ADDR granularity with the PASID cache';
    if (i.granularity === IOMMU_INV_GRANU_DOMAIN && i.cache & IOMMU_CACHE_INV_TYPE_DEV_IOTLB) return 'DOMAIN granularity with DEV_IOTLB';
  }
  if (i.granularity === IOMMU_INV_GRANU_PASID) {
    const pi = i.pasid_info;
    if (!pi || !isInt(pi.flags) || pi.flags & ~(IOMMU_INV_PASID_FLAGS_PASID | IOMMU_INV_PASID_FLAGS_ARCHID)) return 'pasid_info: unknown flags';
    if (pi.flags & IOMMU_INV_PASID_FLAGS_PASID && (!isInt(pi.pasid) || pi.pasid >= pasidMax)) return 'pasid_info.pasid >= PASID_MAX';
  }
  if (i.granularity === IOMMU_INV_GRANU_ADDR) {
    const a = i.addr_info;
    if (!a || !isInt(a.flags) || a.flags & ~(IOMMU_INV_ADDR_FLAGS_PASID | IOMMU_INV_ADDR_FLAGS_ARCHID | IOMMU_INV_ADDR_FLAGS_LEAF)) return 'addr_info: unknown flags';
    if (a.flags & IOMMU_INV_ADDR_FLAGS_PASID && (!isInt(a.pasid) || a.pasid >= pasidMax)) return 'addr_info.pasid >= PASID_MAX';
    // a zero granule_size or nb_granules is no refusal: the size order, order_base_2(0), is 0: one page (DOMAIN.md §2.4)
    if (!isInt(a.addr) || !isInt(a.granule_size) || !isInt(a.nb_granules)) return 'addr_info: bad addr, granule_size or nb_granules';
  }
  // copy_from_user: every field the driver reads below was checked above
  return { info: i as CacheInvalidateInfo };
}

/**
 * to_vtd_size(granu_size, nr_granules): order_base_2((granu_size * nr_granules) >> VTD_PAGE_SHIFT), in
 * u64 arithmetic: no range is refused, a product past 2^64 wraps, fewer than two pages is order 0.
 * (The driver then passes `1 << size` pages, an int shift the C standard leaves undefined past 30;
 * the model takes the 2^size pages it means.)
 */
function toVtdSize(granuleSize: number, nbGranules: number): number {
  const pages = ((BigInt(granuleSize) * BigInt(nbGranules)) & ((1n << 64n) - 1n)) >> 12n;
  return pages <= 1n ? 0 : (pages - 1n).toString(2).length;
}

/** The type x granularity map of DOMAIN.md §2.4; undefined = rejected. */
function granuOf(type: number, granularity: number): string | undefined {
  if (type === IOMMU_CACHE_INV_TYPE_IOTLB) return granularity === IOMMU_INV_GRANU_PASID ? 'NONG_PASID' : granularity === IOMMU_INV_GRANU_ADDR ? 'PSI_PASID' : undefined;
  if (type === IOMMU_CACHE_INV_TYPE_DEV_IOTLB) return granularity === IOMMU_INV_GRANU_ADDR ? 'PASID_SEL' : undefined;
  return undefined; // the PASID cache is host-managed: every granularity rejected
}

/**
 * A page-selective IOTLB invalidation whose address has bits below its size order ('vtd.psi_misaligned',
 * DOMAIN.md §2.4, §7.7): v5.8 prints "Address out of range" and fails with -ERANGE; 1ff00279655d prints
 * "User address not aligned" and flushes anyway (the hardware ignores the low bits). The lines' wording
 * is the pr_err_ratelimited of those kernels [M: exact text].
 */
function misalignedAddr(policy: PolicyValues, vm: string, dev: string, addr: number, size: number): { outs: HostOut[] } | { outs: HostOut[]; ret: number } {
  const at = `0x${addr.toString(16)}, size order ${size}`;
  if (policy['vtd.psi_misaligned'] === 'ERANGE') {
    const why = `address ${addr} is not aligned to ${2 ** size} pages`;
    return {
      outs: [evt('dmesg', { level: 'err', fn: 'intel_iommu_sva_invalidate', text: `DMAR: Address out of range, ${at}` }), evt('sva_invalidate.rejected', { vm, dev, errno: 'ERANGE', why, kind: 'refused' })],
      ret: -ERRNO.ERANGE,
    };
  }
  return {
    outs: [
      evt('sva_invalidate.warning', { dev, why: `address ${addr} is not aligned to ${2 ** size} pages: flushed from the aligned address` }),
      evt('dmesg', { level: 'err', fn: 'intel_iommu_sva_invalidate', text: `DMAR: User address not aligned, ${at}` }),
    ],
  };
}

/** intel_iommu_sva_invalidate (DOMAIN.md §2.4): flush the IOTLB, fall through to the devTLB with ATS. */
export function intelIommuSvaInvalidate(s: HostVtdState, input: HostInputOf<'iommu_cache_invalidate'>): HostOut[] {
  const p = input.payload;
  const caller = callerOf(input);
  const no = (errno: ErrnoName, why: string, kind: 'malformed' | 'refused' | 'unsupported' = 'refused') => [
    evt('sva_invalidate.rejected', { vm: p.vm, dev: p.dev ?? null, errno, why, kind }), ...answer(caller, { ret: -ERRNO[errno] }),
  ];
  const domain = s.domains[p.domain];
  if (!p.info || typeof p.info !== 'object' || !domain) return no('EINVAL', 'no info or no domain');
  // a NULL dev is checked here before use: -ENODEV, not an oops
  const dev = p.dev;
  if (dev === null || dev === undefined || !s.devices[dev]) return no('ENODEV', 'dev is NULL, not PCI, or has no IOMMU');
  const copied = copyInvalidateInfo(p.info, s.pasidMax, s.policy!);
  if (typeof copied === 'string') return no('EINVAL', copied, 'malformed');
  if (!domain.nesting || !domain.devs[dev]) return no('EINVAL', 'domain is not nesting, or no device_domain_info');
  const info = copied.info;
  const addrInfo = info.granularity === IOMMU_INV_GRANU_ADDR ? info.addr_info! : undefined;
  const flagPasid = addrInfo ? addrInfo.flags & IOMMU_INV_ADDR_FLAGS_PASID : info.granularity === IOMMU_INV_GRANU_PASID ? info.pasid_info!.flags & IOMMU_INV_PASID_FLAGS_PASID : 0;
  // the PASID is used only when the PASID flag is set; otherwise 0
  const pasid = flagPasid ? (addrInfo ? addrInfo.pasid : info.pasid_info!.pasid) : 0;
  let range: { first: number; npages: number } | 'all' = 'all';
  // size order = to_vtd_size(): order_base_2 of the 4K pages, computed for ADDR only
  let size = 0;
  if (addrInfo) {
    size = toVtdSize(addrInfo.granule_size, addrInfo.nb_granules);
    const npages = 2 ** size;
    range = { first: Math.floor(addrInfo.addr / 4096 / npages) * npages, npages };
  }
  const device = s.devices[dev]!;
  const outs: HostOut[] = [];
  let ret = 0;
  let devtlb: { first: number; npages: number } | 'all' | null = null;
  for (const type of [IOMMU_CACHE_INV_TYPE_IOTLB, IOMMU_CACHE_INV_TYPE_DEV_IOTLB, IOMMU_CACHE_INV_TYPE_PASID]) {
    if (!(info.cache & type)) continue;
    const granu = granuOf(type, info.granularity);
    if (!granu) {
      outs.push(evt('sva_invalidate.unsupported', { vm: p.vm, dev, cache: TYPE_NAME[type], granularity: GRANU_NAME[info.granularity], kind: 'unsupported' }));
      // a rejected type x granularity breaks out of the loop with ret = 0: success is reported (bug #5)
      if (s.policy!['vtd.unsupported_inval'] === 'EINVAL') ret = -ERRNO.EINVAL;
      break;
    }
    // ownership (v4 09/15): ioasid_find in the VM's set, inside the loop after the granularity check, for
    // the PASID of the request (0 without the PASID flag); not found there is -EINVAL (DOMAIN.md §7.8)
    if (s.policy!['vtd.bind_checks_pasid_ownership']) {
      const owner = s.ioasid[pasid];
      if (owner?.set !== domain.vm) return no('EINVAL', owner ? `ioasid_find: PASID ${pasid} is in set ${owner.set}, not ${domain.vm}` : `ioasid_find: PASID ${pasid} not allocated`);
    }
    if (type === IOMMU_CACHE_INV_TYPE_IOTLB) {
      // the IOTLB case only, and only for a size order above 0 (DOMAIN.md §7.7): an address below the mask
      if (addrInfo && size !== 0 && addrInfo.addr % (2 ** size * 4096) !== 0) {
        const misaligned = misalignedAddr(s.policy!, p.vm, dev, addrInfo.addr, size);
        if ('ret' in misaligned) return [...outs, ...misaligned.outs, ...answer(caller, { ret: misaligned.ret })];
        outs.push(...misaligned.outs);
      }
      outs.push(flushPiotlb(s, domain.did, pasid, range, `CACHE_INVLD ${GRANU_NAME[info.granularity]}`));
      // with ATS, fall through to the devTLB: PASID granularity means the whole range (bug #9 used the user's addr/size)
      if (device.ats) devtlb = range === 'all' ? (s.policy!['vtd.devtlb_pasid_full_range'] ? 'all' : { first: 0, npages: 1 }) : range;
    } else if (device.ats) devtlb = range;
    else outs.push(evt('sva_invalidate.warning', { dev, why: 'DEV_IOTLB requested, ATS not enabled' }));
  }
  if (devtlb && ret === 0) {
    const f = devtlbFlush(s, input.id, dev, pasid, devtlb, `CACHE_INVLD ${GRANU_NAME[info.granularity]}${info.granularity === IOMMU_INV_GRANU_PASID ? ' (PASID granularity)' : ''}`);
    for (const o of f.outs) outs.push(o);
    if (f.awaited) {
      return [...outs, parked(input.id, { kind: 'inval', caller, vm: p.vm, dev, pasid, acks: 1, ret, desc: f.desc })];
    }
  }
  return [...outs, evt('sva_invalidate.done', { vm: p.vm, dev, pasid, ret }), ...answer(caller, { ret })];
}
