import { ERRNO } from '../../../contracts/src/index.js';
import { reply } from '../request-reply.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState } from './state.js';

/** The IOASID allocator (drivers/iommu/ioasid.c): one PASID space shared by every VM's set and the host's. */

/** The lowest free PASID in [min, max], within (0, PASID_MAX). */
export function firstFree(s: HostVtdState, min: number, max: number): number | null {
  for (let p = Math.max(min, 1); p <= Math.min(max, s.pasidMax - 1); p++) if (!s.ioasid[p]) return p;
  return null;
}

/** ioasid_alloc(set, min, max): the lowest free PASID in the range, or -ENOSPC. */
export function ioasidAlloc(s: HostVtdState, input: HostInputOf<'ioasid_alloc'>): HostOut[] {
  const p = input.payload;
  const pasid = firstFree(s, p.min, p.max);
  if (pasid === null) return [evt('ioasid.exhausted', { set: p.set, min: p.min, max: p.max, held: Object.keys(s.ioasid).length }), ...reply(input, { ret: -ERRNO.ENOSPC })];
  return [evt('ioasid.allocated', { set: p.set, pasid }), ...reply(input, { ret: 0, value: pasid })];
}

/** ioasid_free(set, pasid): a PASID of another set is left alone; `bound` names the devices still bound to it. */
export function ioasidFree(s: HostVtdState, input: HostInputOf<'ioasid_free'>): HostOut[] {
  const { set, pasid } = input.payload;
  if (s.ioasid[pasid]?.set !== set) return [evt('ioasid.free_ignored', { set, pasid }), ...reply(input, { ret: 0 })];
  return [evt('ioasid.freed', { set, pasid, bound: Object.keys(s.svm[pasid]?.devs ?? {}) }), ...reply(input, { ret: 0 })];
}
