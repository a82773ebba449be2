import {
  ERRNO, PGTT_FL_ONLY, PGTT_PT, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, type GuestPasidEntry, type InputTo, type Reply,
} from '../../../contracts/src/index.js';
import { cmd, type Command } from '../decider.js';
import { completeStep, parked } from '../request-reply.js';
import { completeWith, evt, waitDone, type GuestCall, type GuestViommuState } from './state.js';
import { bindData } from './uapi.js';

/** QEMU's call on the container: VFIO_IOMMU_NESTING_OP (BIND_PGTBL, UNBIND_PGTBL, CACHE_INVLD) with its data. */
export const nestingOp = (vm: string, flags: number, data: unknown, tag: string, argsz = 16): Command =>
  cmd('vfio-type1', 'VFIO_IOMMU_NESTING_OP', { vm, op: { argsz, flags, data }, tag });

/**
 * The guest driver writes a PASID entry, then a PASID-selective PASID-cache invalidation and a wait
 * descriptor; QEMU traps the invalidation (vtd_pasid_cache_sync) and binds the entry's first-level
 * table on the host (NESTING_OP BIND_PGTBL), or only caches a pass-through entry.
 */
export function pasidCacheSyncBind(input: InputTo<'guest-viommu'> & { type: 'step.bind' }) {
  const p = input.payload;
  const entry: GuestPasidEntry = { pgtt: p.pgtt, flptr: p.gpgd, addr_width: p.addr_width, sre: !!p.sre, eafe: !!p.eafe };
  const written = evt('pasid_entry.written', { vm: p.vm, pasid: p.pasid, entry });
  // vtd_pasid_cache_sync: PGTT other than FL or PT, or a zero FLPTR, is an error (no bind)
  if ((entry.pgtt !== PGTT_FL_ONLY && entry.pgtt !== PGTT_PT) || (entry.pgtt === PGTT_FL_ONLY && entry.flptr === 0)) {
    return [written, completeStep(p.step, { ret: -ERRNO.EINVAL })];
  }
  if (entry.pgtt === PGTT_PT) return [written, evt('pasid_cache.filled', { vm: p.vm, pasid: p.pasid, entry }), completeStep(p.step, { ret: 0 })];
  return [
    written, parked<GuestCall>(input.id, { step: p.step, op: 'bind', vm: p.vm, pasid: p.pasid, entry }),
    nestingOp(p.vm, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, bindData(p.pasid, entry), input.id),
  ];
}

/** The guest clears the entry: the cached entry is gone from the table, QEMU unbinds it (nothing cached: nothing to tell the host). */
export function pasidCacheSyncUnbind(s: GuestViommuState, input: InputTo<'guest-viommu'> & { type: 'step.unbind' }) {
  const p = input.payload;
  const cached = s.vms[p.vm]?.cache[p.pasid];
  const cleared = evt('pasid_entry.cleared', { vm: p.vm, pasid: p.pasid });
  if (!cached || cached.pgtt === PGTT_PT) return [cleared, evt('pasid_cache.evicted', { vm: p.vm, pasid: p.pasid }), completeStep(p.step, { ret: 0 })];
  return [
    cleared, parked<GuestCall>(input.id, { step: p.step, op: 'unbind', vm: p.vm, pasid: p.pasid }),
    nestingOp(p.vm, VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, bindData(p.pasid, cached), input.id),
  ];
}

/** BIND_PGTBL / UNBIND_PGTBL returned: the PASID cache follows the host only on success; the wait descriptor completes. */
export function pasidCacheSyncReturned(c: GuestCall & { op: 'bind' | 'unbind' }, r: Reply) {
  const ok = r.ret === 0 && !r.oops;
  const cache = !ok ? [] : c.op === 'bind' ? [evt('pasid_cache.filled', { vm: c.vm, pasid: c.pasid, entry: c.entry })] : [evt('pasid_cache.evicted', { vm: c.vm, pasid: c.pasid })];
  return [...cache, waitDone(c, r), completeWith(c.step, r)];
}
