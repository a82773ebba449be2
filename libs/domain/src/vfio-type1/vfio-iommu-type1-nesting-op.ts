import { ERRNO, NESTING_OP_MASK, NESTING_OP_MINSZ, NESTING_OP_NAMES, type ErrnoName } from '../../../contracts/src/index.js';
import { answer, callerOf } from '../request-reply.js';
import { evt, type VfioIn, type VfioOut } from './common.js';
import { primaryContainer, type NestKind, type VfioState } from './state.js';
import { vfioIommuHandlePgtblOp } from './vfio-iommu-handle-pgtbl-op.js';
import { vfioIommuType1CacheInvalidate } from './vfio-iommu-type1-cache-invalidate.js';

const isInt = (x: unknown): x is number => Number.isInteger(x);
const KINDS = ['bind', 'unbind', 'inval'] as const satisfies readonly NestKind[];

/**
 * struct vfio_iommu_type1_nesting_op as copy_from_user reads it from the VMM: argsz and flags (minsz),
 * then the op's data. Untrusted: any field may be missing or of any type; null when it is no struct.
 */
function nestingOpArg(op: unknown): { argsz: unknown; flags: unknown; data: unknown } | null {
  if (typeof op !== 'object' || op === null) return null;
  return { argsz: 'argsz' in op ? op.argsz : undefined, flags: 'flags' in op ? op.flags : undefined, data: 'data' in op ? op.data : undefined };
}

/**
 * VFIO_IOMMU_NESTING_OP (vfio_iommu_type1_nesting_op, DOMAIN.md §2.2.4, §2.4): argsz and flags, then
 * BIND_PGTBL / UNBIND_PGTBL -> vfio_iommu_handle_pgtbl_op, CACHE_INVLD -> vfio_iommu_type1_cache_invalidate,
 * each a walk over every device of the container (vfio-iommu-for-each-dev.ts).
 */
export function vfioIommuType1NestingOp(s: VfioState, input: VfioIn<'VFIO_IOMMU_NESTING_OP'>): VfioOut[] {
  const { vm } = input.payload;
  const arg = nestingOpArg(input.payload.op);
  const caller = callerOf(input);
  // QEMU issues it through its IOMMU context, registered by each container with an IOMMU domain
  // (nesting_info); the walk then covers the devices of every such container of the VM, in order
  const c = primaryContainer(s, vm);
  const flags = arg?.flags;
  const code = isInt(flags) ? flags & NESTING_OP_MASK : -1;
  const kind: NestKind | undefined = KINDS[code];
  const fail = (errno: ErrnoName, why: string) => [evt('nesting_op.rejected', { vm, op: NESTING_OP_NAMES[code] ?? code, errno, why }), ...answer(caller, { ret: -ERRNO[errno] })];
  if (!c) return fail('ENODEV', 'no container');
  if (!arg || !isInt(arg.argsz) || arg.argsz < NESTING_OP_MINSZ) return fail('EINVAL', 'argsz < minsz');
  if (!kind || !isInt(flags) || flags < 0 || flags > NESTING_OP_MASK) return fail('EINVAL', 'unknown op or flags beyond the op bits');
  // the op's data (iommu_gpasid_bind_data, iommu_cache_invalidate_info) goes on to the IOMMU layer as it came: the host checks it
  const data = typeof arg.data === 'object' && arg.data !== null && !Array.isArray(arg.data) ? arg.data : {};
  if (kind === 'inval') return vfioIommuType1CacheInvalidate(s, input.id, c, vm, data, caller, fail);
  return vfioIommuHandlePgtblOp(s, input.id, c, vm, kind === 'bind', data, caller, fail);
}
