import { intRule, isInt, obj, type Fields, type UapiRule } from './types.js';

/**
 * struct vfio_iommu_type1_pasid_request {argsz, flags, range{min, max}} (DOMAIN.md §1.2, v7 uAPI).
 * VFIO checks it before anything else (§2.1 point 2: argsz, flags and range before the vfio_mm; §7.5:
 * the 31-bit limit "before the vfio_mm check"), so every refusal is -EINVAL whatever the state.
 */
export const ALLOC = 1 << 0;
export const FREE = 1 << 1;
/** offsetofend(range.max): argsz, flags (u32), range.min, range.max (u32) */
export const MINSZ = 16;

export const PASID_REQUEST_RULES: readonly UapiRule<Fields>[] = [
  {
    id: 'pasid_request.argsz', section: 'DOMAIN.md §2.1.2', says: 'argsz < minsz (16) -> -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (r) => intRule(r.argsz, (n) => n >= MINSZ),
  },
  {
    id: 'pasid_request.flags', section: 'DOMAIN.md §1.2, §2.1.2', says: 'flags is exactly one of ALLOC (1) or FREE (2), nothing else -> else -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (r) => (r.flags === ALLOC || r.flags === FREE ? 'accept' : 'reject'),
  },
  {
    id: 'pasid_request.range', section: 'DOMAIN.md §2.1.2', says: 'range.min > range.max -> -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (r) => {
      const { min, max } = obj(r.range);
      return isInt(min) && isInt(max) && min <= max ? 'accept' : 'reject';
    },
  },
  {
    id: 'pasid_request.range_31bit', section: 'DOMAIN.md §7.5', says: 'v7: range.min or range.max above 1 << 31 -> -EINVAL', errno: 'EINVAL', stage: 'early',
    when: (p) => p['vfio.pasid_request_31bit'] === true,
    judge: (r) => {
      const { min, max } = obj(r.range);
      return (isInt(min) && min > 2 ** 31) || (isInt(max) && max > 2 ** 31) ? 'reject' : 'accept';
    },
  },
];
