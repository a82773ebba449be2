import { intRule, isInt, obj, type Fields, type RuleOutcome, type UapiRule } from './types.js';

/**
 * struct iommu_cache_invalidate_info {argsz, version, cache, granularity, granu.pasid_info |
 * granu.addr_info} (DOMAIN.md §2.4), as NESTING_OP(CACHE_INVLD) hands it to the IOMMU layer for each
 * device. The core's checks (§7.6) are `early`. The driver's type x granularity map runs inside its
 * loop after the device and domain checks (-ENODEV, -EINVAL), and the misaligned-address check after
 * the PASID's ownership (§7.8): `late`.
 */
export const VERSION_1 = 1;
export const CACHE = { IOTLB: 1 << 0, DEV_IOTLB: 1 << 1, PASID: 1 << 2 } as const;
export const GRANU = { DOMAIN: 0, PASID: 1, ADDR: 2 } as const;
export const PASID_INFO_FLAGS = { PASID: 1 << 0, ARCHID: 1 << 1 } as const;
export const ADDR_INFO_FLAGS = { PASID: 1 << 0, ARCHID: 1 << 1, LEAF: 1 << 2 } as const;
/** offsetof(granu), offsetofend(granu.pasid_info), offsetofend(granu.addr_info) (§7.6) */
export const ARGSZ = { GRANU: 16, PASID_INFO: 32, ADDR_INFO: 56 } as const;
const ALL_CACHES = CACHE.IOTLB | CACHE.DEV_IOTLB | CACHE.PASID;
const PAGE_SHIFT = 12;

/**
 * The driver's type x granularity map (§2.4): the cells it supports. Every other cell is rejected,
 * and every PASID-cache request: the PASID cache is host-managed.
 */
export const SUPPORTED: ReadonlyArray<readonly [cache: number, granularity: number]> = [
  [CACHE.IOTLB, GRANU.PASID], [CACHE.IOTLB, GRANU.ADDR], [CACHE.DEV_IOTLB, GRANU.ADDR],
];

const bitsOf = (cache: number): number[] => [CACHE.IOTLB, CACHE.DEV_IOTLB, CACHE.PASID].filter((b) => cache & b);
/** the union member the granularity reads (the log carries it beside the header, as the kernel's names) */
const granuInfo = (i: Fields): Fields => obj(i[i.granularity === GRANU.ADDR ? 'addr_info' : 'pasid_info']);
const flagsWithin = (x: unknown, mask: number): RuleOutcome => intRule(x, (n) => n >= 0 && !(n & ~mask));
/**
 * the state checks before a cell of the driver's loop (§2.4: dev NULL or no iommu -ENODEV; domain not
 * nesting, no device info -EINVAL; §7.8: the ownership of an earlier cache type's PASID, -EINVAL/-EACCES/-ENOENT)
 */
const LOOP_AFTER = ['ENODEV', 'EINVAL', 'ENOENT', 'EACCES'] as const;

/** size order of an ADDR request: order_base_2(granule_size * nb_granules / 4K) (§2.4) */
export function sizeOrder(granuleSize: number, nbGranules: number): number {
  const pages = Math.max(1, Math.ceil((granuleSize * nbGranules) / 2 ** PAGE_SHIFT));
  return Math.ceil(Math.log2(pages));
}

export const CACHE_INVALIDATE_INFO_RULES: readonly UapiRule<Fields>[] = [
  {
    id: 'cache_invalidate_info.argsz', section: 'DOMAIN.md §7.6', says: 'argsz < offsetof(granu) (16) -> -EINVAL in the core', errno: 'EINVAL', stage: 'early',
    judge: (i) => intRule(i.argsz, (n) => n >= ARGSZ.GRANU),
  },
  {
    id: 'cache_invalidate_info.argsz_granu', section: 'DOMAIN.md §7.6', says: 'argsz below the end of the member the granularity reads: 32 for PASID, 56 for ADDR -> -EINVAL in the core', errno: 'EINVAL', stage: 'early',
    judge: (i) => {
      const need = i.granularity === GRANU.PASID ? ARGSZ.PASID_INFO : i.granularity === GRANU.ADDR ? ARGSZ.ADDR_INFO : ARGSZ.GRANU;
      return intRule(i.argsz, (n) => n >= need);
    },
  },
  {
    id: 'cache_invalidate_info.version', section: 'DOMAIN.md §2.4', says: 'version is 1 -> else -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (i) => (i.version === VERSION_1 ? 'accept' : 'reject'),
  },
  {
    id: 'cache_invalidate_info.cache', section: 'DOMAIN.md §2.4', says: 'cache bits are IOTLB 1, DEV_IOTLB 2, PASID 4 -> another bit is -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (i) => flagsWithin(i.cache, ALL_CACHES),
  },
  {
    id: 'cache_invalidate_info.granularity', section: 'DOMAIN.md §2.4', says: 'granularity is DOMAIN 0, PASID 1 or ADDR 2 -> else -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (i) => intRule(i.granularity, (n) => n >= GRANU.DOMAIN && n <= GRANU.ADDR),
  },
  {
    id: 'cache_invalidate_info.flags', section: 'DOMAIN.md §2.4', says: 'pasid_info.flags within PASID|ARCHID, addr_info.flags within PASID|ARCHID|LEAF -> another bit is -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (i) => (i.granularity === GRANU.PASID ? flagsWithin(granuInfo(i).flags, PASID_INFO_FLAGS.PASID | PASID_INFO_FLAGS.ARCHID)
      : i.granularity === GRANU.ADDR ? flagsWithin(granuInfo(i).flags, ADDR_INFO_FLAGS.PASID | ADDR_INFO_FLAGS.ARCHID | ADDR_INFO_FLAGS.LEAF) : 'accept'),
  },
  {
    id: 'cache_invalidate_info.pasid', section: 'DOMAIN.md §1.4, §2.4', says: 'a PASID at or above the host\'s PASID_MAX with the PASID flag: DOMAIN.md does not say who refuses it, not judged', errno: 'EINVAL', stage: 'late', after: LOOP_AFTER,
    judge: (i, p) => {
      const g = granuInfo(i);
      if (!(isInt(g.flags) && g.flags & 1) || i.granularity === GRANU.DOMAIN) return 'accept';
      return isInt(g.pasid) && g.pasid >= 0 && g.pasid < (p.pasidMax ?? 0x100000) ? 'accept' : 'unknown';
    },
  },
  {
    id: 'cache_invalidate_info.core_granu', section: 'DOMAIN.md §7.6', says: 'v5.10 core: ADDR granularity with the PASID cache, DOMAIN granularity with DEV_IOTLB -> -EINVAL before the driver', errno: 'EINVAL', stage: 'early',
    when: (p) => p['iommu.core_rejects_invalid_granu'] === true,
    judge: (i) => (isInt(i.cache) && ((i.granularity === GRANU.ADDR && i.cache & CACHE.PASID) || (i.granularity === GRANU.DOMAIN && i.cache & CACHE.DEV_IOTLB)) ? 'reject' : 'accept'),
  },
  {
    id: 'cache_invalidate_info.type_granu', section: 'DOMAIN.md §2.4, §6 uapi-errno (bug #5)',
    says: 'a cache type x granularity cell not in the driver\'s map (IOTLB: PASID, ADDR; DEV_IOTLB: ADDR; PASID cache: none) is unsupported: an error (the kernel\'s loop breaks with ret 0, bug #5)',
    errno: 'EINVAL', stage: 'late', after: LOOP_AFTER,
    judge: (i) => (isInt(i.cache) && bitsOf(i.cache).some((b) => !SUPPORTED.some(([c, g]) => c === b && g === i.granularity)) ? 'reject' : 'accept'),
  },
  {
    id: 'cache_invalidate_info.misaligned', section: 'DOMAIN.md §2.4, §7.7, §7.8',
    says: 'v5.8 (vtd.psi_misaligned = ERANGE): an IOTLB ADDR request whose size order is not 0 and whose address is not aligned to its size -> -ERANGE, after the ownership check',
    errno: 'ERANGE', stage: 'late', after: LOOP_AFTER,
    when: (p) => p['vtd.psi_misaligned'] === 'ERANGE',
    judge: (i) => {
      if (!(isInt(i.cache) && i.cache & CACHE.IOTLB) || i.granularity !== GRANU.ADDR) return 'accept';
      const a = granuInfo(i);
      if (!isInt(a.addr) || !isInt(a.granule_size) || !isInt(a.nb_granules)) return 'unknown';
      const order = sizeOrder(a.granule_size, a.nb_granules);
      return order > 0 && a.addr % 2 ** (PAGE_SHIFT + order) !== 0 ? 'reject' : 'accept';
    },
  },
];
