import { intRule, isInt, obj, type Fields, type RuleOutcome, type UapiRule } from './types.js';

/**
 * struct iommu_gpasid_bind_data {argsz, version, format, flags, gpgd, hpasid, gpasid, addr_width,
 * vendor.vtd{flags, pat, emt}} (DOMAIN.md §2.2.3), as NESTING_OP(BIND_PGTBL) hands it to the IOMMU
 * layer for each device. The core's checks, then intel_svm_bind_gpasid's (§2.2.5, §7.6) come before
 * any state but `!iommu` (-EINVAL too): `early`. hpasid and intel_pasid_setup_nested's checks (§2.2.6)
 * come after the device and the PASID's state (ownership -ENOENT/-EACCES, -EBUSY): `late`.
 */
export const VERSION_1 = 1;
export const FORMAT_INTEL_VTD = 1;
export const GPASID_VAL = 1 << 0;
/** offsetof(vendor): the core wants this much (§7.6) */
export const CORE_MINSZ = 56;
/** offsetofend(vendor.vtd): the VT-d driver wants this much (§7.6) */
export const VTD_MINSZ = 72;
export const VTD = { SRE: 1 << 0, EAFE: 1 << 1, PCD: 1 << 2, PWT: 1 << 3, EMTE: 1 << 4, CD: 1 << 5, WPE: 1 << 6, LAST: 1 << 7 } as const;
/** PASID_MAX (§1.4): hpasid must be in (0, PASID_MAX) */
export const PASID_MAX = 0x100000;

const vtdFlags = (d: Fields): unknown => obj(obj(d.vendor).vtd).flags;
const vtdFlagRule = (d: Fields, bad: number): RuleOutcome => { const f = vtdFlags(d); return isInt(f) && !(f & bad) ? 'accept' : 'reject'; };
/** the state checks before intel_pasid_setup_nested's (§2.2.5): ownership, -EBUSY, and the -EINVALs of the device and domain */
const SETUP_NESTED_AFTER = ['EINVAL', 'ENOENT', 'EACCES', 'EBUSY'] as const;

export const GPASID_BIND_DATA_RULES: readonly UapiRule<Fields>[] = [
  {
    id: 'gpasid_bind_data.argsz_core', section: 'DOMAIN.md §7.6', says: 'argsz < offsetof(vendor) (56) -> -EINVAL in the core', errno: 'EINVAL', stage: 'early',
    judge: (d) => intRule(d.argsz, (n) => n >= CORE_MINSZ),
  },
  {
    id: 'gpasid_bind_data.version', section: 'DOMAIN.md §2.2.3', says: 'version is 1 -> else -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (d) => (d.version === VERSION_1 ? 'accept' : 'reject'),
  },
  {
    id: 'gpasid_bind_data.format', section: 'DOMAIN.md §2.2.3, §2.2.5', says: 'format is INTEL_VTD (1) -> else -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (d) => (d.format === FORMAT_INTEL_VTD ? 'accept' : 'reject'),
  },
  {
    id: 'gpasid_bind_data.flags', section: 'DOMAIN.md §2.2.3, §7.6', says: 'flags: GPASID_VAL (1 << 0) is the only flag -> another bit is -EINVAL in the core', errno: 'EINVAL', stage: 'early',
    judge: (d) => intRule(d.flags, (n) => n >= 0 && !(n & ~GPASID_VAL)),
  },
  {
    id: 'gpasid_bind_data.argsz_vtd', section: 'DOMAIN.md §2.2.5, §7.6', says: 'argsz < offsetofend(vendor.vtd) (72) -> -EINVAL in intel_svm_bind_gpasid', errno: 'EINVAL', stage: 'early',
    judge: (d) => intRule(d.argsz, (n) => n >= VTD_MINSZ),
  },
  {
    id: 'gpasid_bind_data.vtd_flags', section: 'DOMAIN.md §2.2.5, §7.6', says: 'vendor.vtd.flags at or above IOMMU_SVA_GPASID_LAST (1 << 7) -> -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (d) => { const f = vtdFlags(d); return isInt(f) && f >= 0 && f < VTD.LAST ? 'accept' : 'reject'; },
  },
  {
    id: 'gpasid_bind_data.hpasid', section: 'DOMAIN.md §1.4, §2.2.5', says: 'hpasid outside (0, PASID_MAX) -> -EINVAL, after the device checks (not PCI: -ENOTSUPP)', errno: 'EINVAL', stage: 'late', after: ['ENOTSUPP'],
    judge: (d) => intRule(d.hpasid, (n) => n > 0 && n < PASID_MAX),
  },
  {
    id: 'gpasid_bind_data.addr_width', section: 'DOMAIN.md §2.2.6', says: 'addr_width 48, or 57 with LA57 and cap_5lp (a host capability: not judged) -> any other -EINVAL', errno: 'EINVAL', stage: 'late', after: SETUP_NESTED_AFTER,
    judge: (d) => (d.addr_width === 48 ? 'accept' : d.addr_width === 57 ? 'unknown' : 'reject'),
  },
  {
    id: 'gpasid_bind_data.memory_type', section: 'DOMAIN.md §2.2.6', says: 'any memory-type flag (PCD, PWT, EMTE, CD) -> -EINVAL in intel_pasid_setup_nested', errno: 'EINVAL', stage: 'late', after: SETUP_NESTED_AFTER,
    judge: (d) => vtdFlagRule(d, VTD.PCD | VTD.PWT | VTD.EMTE | VTD.CD),
  },
  {
    id: 'gpasid_bind_data.ecap_flags', section: 'DOMAIN.md §2.2.6, §7.6', says: 'SRE needs ecap_srs, EAFE ecap_eafs; WPE is honoured with SRE only: host capabilities, not judged', errno: 'EINVAL', stage: 'late', after: SETUP_NESTED_AFTER,
    judge: (d) => (vtdFlagRule(d, VTD.SRE | VTD.EAFE | VTD.WPE) === 'accept' ? 'accept' : 'unknown'),
  },
  {
    id: 'gpasid_bind_data.gpgd', section: 'DOMAIN.md §2.2.6, §7.9', says: 'gpgd > domain->max_addr (the highest second-stage mapping: state, not judged) -> -EINVAL', errno: 'EINVAL', stage: 'late', after: SETUP_NESTED_AFTER,
    judge: () => 'unknown',
  },
];
