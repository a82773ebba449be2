import { IOMMU_PAGE_RESP_INVALID, IOMMU_PAGE_RESP_PASID_VALID, IOMMU_PAGE_RESP_SUCCESS, PGTT_FL_ONLY, type InputTo } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { pageOf } from '../topology.js';
import { evt, type GuestViommuState } from './state.js';

/**
 * A page request the host reported (iommu_report_device_fault), forwarded to the guest: its IOMMU
 * driver maps the page (a first-level PTE) and responds (iommu_page_response) when the request is
 * the group's last or carries private data; a guest that ignores faults leaves it pending.
 */
export function reportedFault(s: GuestViommuState, input: InputTo<'guest-viommu'> & { type: 'iommu_report_device_fault' }) {
  const f = input.payload;
  const vm = s.vms[f.vm];
  if (!vm) return [evt('ignored', { why: `fault for unknown VM ${f.vm}` })];
  if (vm.faults === 'ignore') return [evt('guest_fault.pending', { ...f })];
  const entry = vm.cache[f.pasid];
  const respond = f.lpig || f.pdp;
  const msg = (code: number) => ({ argsz: 32, version: 1, flags: IOMMU_PAGE_RESP_PASID_VALID, pasid: f.pasid, grpid: f.prg, code });
  if (!entry || entry.pgtt !== PGTT_FL_ONLY) {
    return [
      evt('guest_fault.invalid', { ...f, why: 'no first-level table for the PASID' }),
      ...(respond ? [cmd('host-vtd', 'iommu_page_response', { vm: f.vm, rid: f.rid, msg: msg(IOMMU_PAGE_RESP_INVALID), tag: input.id })] : []),
    ];
  }
  const half = Math.floor(vm.ram / 2);
  const gpa = (pageOf(f.addr) % half) + half;
  return [
    evt('guest_fault.handled', { ...f, gpa }),
    cmd('host-vtd', 'mem.write_pte', { vm: f.vm, gpgd: entry.flptr, va: f.addr, gpa: gpa * 4096, write: true }),
    ...(respond ? [cmd('host-vtd', 'iommu_page_response', { vm: f.vm, rid: f.rid, msg: msg(IOMMU_PAGE_RESP_SUCCESS), tag: input.id })] : []),
  ];
}
