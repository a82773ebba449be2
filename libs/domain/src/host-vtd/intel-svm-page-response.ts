import { ERRNO, IOMMU_PAGE_RESP_PASID_VALID, type ErrnoName } from '../../../contracts/src/index.js';
import { cmd } from '../decider.js';
import { reply } from '../request-reply.js';
import { evt, faultKey, type HostInputOf, type HostOut, type HostVtdState } from './state.js';

/**
 * iommu_page_response -> intel_svm_page_response (DOMAIN.md §2.6.4, §7.12). The core finds the
 * pending fault by group (and PASID): only a request reported with LAST_PAGE (LPIG or PDP) was
 * queued, so a response to any other group finds none (-EINVAL). It calls the driver, then takes
 * the fault off the list whatever the driver returned; the driver passes the code through.
 */
export function intelSvmPageResponse(s: HostVtdState, input: HostInputOf<'iommu_page_response'>): HostOut[] {
  const p = input.payload;
  const no = (errno: ErrnoName, why: string) => [evt('page_response.rejected', { vm: p.vm, rid: p.rid, errno, why, pasid: p.msg?.pasid ?? null }), ...reply(input, { ret: -ERRNO[errno] })];
  if (!s.devices[p.rid]) return no('ENODEV', 'not PCI, or no IOMMU');
  const m = p.msg;
  if (!m || typeof m !== 'object' || m.version !== 1 || !Number.isInteger(m.flags) || m.flags & ~IOMMU_PAGE_RESP_PASID_VALID) return no('EINVAL', 'bad iommu_page_response (version or flags)');
  if (!(m.flags & IOMMU_PAGE_RESP_PASID_VALID) || !Number.isInteger(m.pasid) || m.pasid <= 0 || m.pasid >= s.pasidMax) return no('EINVAL', 'PASID not valid, 0, or >= PASID_MAX');
  if (!Number.isInteger(m.grpid) || ![0, 1, 2].includes(m.code)) return no('EINVAL', 'bad grpid or code');
  const pending = s.pendingFaults[faultKey(p.rid, m.pasid, m.grpid)];
  if (!pending) return no('EINVAL', 'no pending fault for this group (only a LAST_PAGE request is queued)');
  const svm = s.svm[m.pasid];
  // the driver's checks; guest-mode svm: current->mm must be the binder's mm
  const refused = !svm || !svm.devs[p.rid] ? 'no svm or sdev' : svm.guestMode && svm.vm !== p.vm ? `current->mm (VM ${p.vm}) is not the svm's mm (VM ${svm.vm})` : null;
  if (refused) {
    // list_del of the pending fault whatever the driver returned (§7.12): a response from the wrong
    // VM consumes the owner's fault, whose own response then finds none
    return [evt('fault.discarded', { vm: pending.vm, rid: p.rid, pasid: m.pasid, prg: m.grpid, errno: 'ENODEV', why: refused }), ...no('ENODEV', refused)];
  }
  return [
    evt('fault.responded', { vm: p.vm, rid: p.rid, pasid: m.pasid, prg: m.grpid }),
    evt('page_response.sent', { rid: p.rid, pasid: m.pasid, prg: m.grpid, code: (['SUCCESS', 'INVALID', 'FAILURE'] as const)[m.code] ?? String(m.code), by: 'guest', vm: p.vm }),
    // intel_svm_page_response passes msg->code through: FAILURE goes out as 2 (§7.12)
    cmd('mdev-parent', 'page_group_response', { rid: p.rid, pasid: m.pasid, prg: m.grpid, code: m.code }),
    ...reply(input, { ret: 0 }),
  ];
}
