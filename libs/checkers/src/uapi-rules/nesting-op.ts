import { intRule, type Fields, type UapiRule } from './types.js';

/**
 * struct vfio_iommu_type1_nesting_op {argsz, flags, data[]} (DOMAIN.md §1.2): the low 16 bits of flags
 * are the op, BIND_PGTBL 0, UNBIND_PGTBL 1, CACHE_INVLD 2; no other bit is defined. As every VFIO
 * ioctl (§2.1.2), argsz below minsz is -EINVAL; the header is checked before the op looks at the
 * container (nesting_info, vfio_mm).
 */
export const BIND_PGTBL = 0;
export const UNBIND_PGTBL = 1;
export const CACHE_INVLD = 2;
export const OP_MASK = 0xffff;
/** offsetofend(flags): argsz, flags (u32) */
export const MINSZ = 8;

/** the op of a header, or undefined when flags names none */
export const opOf = (h: Fields): number | undefined =>
  Number.isInteger(h.flags) && (h.flags as number) >= 0 && [BIND_PGTBL, UNBIND_PGTBL, CACHE_INVLD].includes((h.flags as number) & OP_MASK) ? (h.flags as number) & OP_MASK : undefined;

export const NESTING_OP_RULES: readonly UapiRule<Fields>[] = [
  {
    id: 'nesting_op.argsz', section: 'DOMAIN.md §1.2, §2.1.2', says: 'argsz < minsz (8, the end of flags) -> -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (h) => intRule(h.argsz, (n) => n >= MINSZ),
  },
  {
    id: 'nesting_op.op', section: 'DOMAIN.md §1.2', says: 'flags & 0xffff is BIND_PGTBL 0, UNBIND_PGTBL 1 or CACHE_INVLD 2 -> else -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (h) => (opOf(h) === undefined ? 'reject' : 'accept'),
  },
  {
    id: 'nesting_op.flags', section: 'DOMAIN.md §1.2', says: 'flags beyond the low 16 bits (the op) -> -EINVAL', errno: 'EINVAL', stage: 'early',
    judge: (h) => intRule(h.flags, (n) => n >= 0 && n <= OP_MASK),
  },
];
