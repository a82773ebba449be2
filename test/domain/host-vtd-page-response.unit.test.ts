import { describe, expect, it } from 'vitest';
import { EINVAL, ENODEV, RID, doesNotEmit, emits, given, holds, returns, sends, sendsTimes, type Input } from './gwt.js';
import { gpasidBindData, ioasid_alloc, iommu_aux_attach_device, iommu_domain_alloc, iommu_sva_bind_gpasid, page_request, runOpen } from './inputs.js';

// iommu_page_response -> intel_svm_page_response (DOMAIN.md §2.6.4, §7.12): the core finds the pending
// fault, calls the driver, then takes the fault off the list whatever the driver returned; the driver
// passes the response code through to the device.

const P = 3; // vm1's PASID, bound on dsa0 in guest mode

const response = (vm: string, code: number): Input => ({
  type: 'iommu_page_response', from: 'guest-viommu',
  payload: { vm, rid: RID, msg: { argsz: 32, version: 1, flags: 1, pasid: P, grpid: 5, code }, tag: 'guest.1' },
});
/** mainline (the reporting thread): mdev1's device asked for a page on P, group 5 (LPIG unless `over` says otherwise). */
const reported = (over: Record<string, unknown> = {}) => given<{ pendingFaults: Record<string, unknown> }>(
  'host-vtd', runOpen('mainline'), iommu_domain_alloc('vm1'), iommu_aux_attach_device('vm1', 1, 'mdev1'), ioasid_alloc('vm1', P),
  iommu_sva_bind_gpasid({ data: gpasidBindData(P) }), page_request(P, over),
);

describe('iommu_page_response', () => {
  it('the fault was reported to vm1 and is pending', () => {
    reported().when(response('vm1', 0)).then(returns(0), emits('fault.responded', { vm: 'vm1', pasid: P, prg: 5 }), sends('mdev-parent', 'page_group_response', { rid: RID, pasid: P, prg: 5, code: 0 }));
  });

  it('a response from another VM is refused by the driver (-ENODEV) and still consumes the pending fault: the group is never answered', () => {
    reported()
      .when(response('vm2', 0))
      .then(
        returns(-ENODEV),
        emits('fault.discarded', { vm: 'vm1', rid: RID, pasid: P, prg: 5, errno: 'ENODEV' }),
        holds((o) => expect(o.state.pendingFaults, 'the owner\'s pending fault is gone').toEqual({})),
      );
  });

  it('DOMAIN.md §7.12: a request reported without LAST_PAGE (neither LPIG nor PDP) is not queued: its response finds nothing, -EINVAL', () => {
    reported({ lpig: false })
      .when(response('vm1', 0))
      .then(
        returns(-EINVAL),
        emits('page_response.rejected', { vm: 'vm1', rid: RID, errno: 'EINVAL', pasid: P }),
        doesNotEmit('fault.responded'),
        sendsTimes('mdev-parent', 'page_group_response', 0),
      );
  });

  it('DOMAIN.md §7.12: with PDP (LAST_PAGE set by intel_svm_prq_report) the fault is queued and the response goes out', () => {
    reported({ lpig: false, priv_data_present: true }).when(response('vm1', 0)).then(returns(0), sends('mdev-parent', 'page_group_response', { pasid: P, prg: 5, code: 0 }));
  });

  it('the driver passes the code through: FAILURE goes to the device as 2', () => {
    reported().when(response('vm1', 2)).then(returns(0), sends('mdev-parent', 'page_group_response', { rid: RID, pasid: P, prg: 5, code: 2 }));
  });
});
