import { describe, expect, it } from 'vitest';
import { QI_RESP_FAILURE, QI_RESP_INVALID } from '../../libs/contracts/src/index.js';
import { RID, doesNotEmit, emits, emitsInOrder, given, holds, returns, sends, sendsTimes, type Input } from './gwt.js';
import {
  HOST, TOPOLOGY, gpasidBindData, ioasid_alloc, iommu_aux_attach_device, iommu_domain_alloc, iommu_sva_bind_gpasid, iommu_sva_unbind_gpasid, page_request, runOpen,
} from './inputs.js';

// prq_event_thread (DOMAIN.md §2.6.1-3, §7.11): the v5.9-based thread of the v7/v8 tree never reports
// a guest-mode request (`if (!svm->mm) goto bad_req` comes first); the ~v5.13+ thread (mainline)
// reports it through iommu_report_device_fault. bad_req answers only LPIG, or PDP (bug #8).

const P = 3; // vm1's PASID, bound on dsa0 in guest mode

const boundOn = (preset: string, sets: Record<string, string | boolean> = {}, held = false): Input[] => [
  runOpen(preset, sets, held ? { ...TOPOLOGY, host: { ...HOST, prq_irq: 'manual' } } : TOPOLOGY),
  iommu_domain_alloc('vm1'), iommu_aux_attach_device('vm1', 1, 'mdev1'), ioasid_alloc('vm1', P),
  iommu_sva_bind_gpasid({ data: gpasidBindData(P) }),
];
const bound = (preset: string, sets: Record<string, string | boolean> = {}) => given<{ pendingFaults: Record<string, unknown> }>('host-vtd', ...boundOn(preset, sets));
const notReported = [doesNotEmit('page_request.reported'), sendsTimes('guest-viommu', 'iommu_report_device_fault', 0)];

describe('prq_event_thread in the v7/v8 tree (v5.9 base, DOMAIN.md §7.11)', () => {
  it('v7 and v8: a guest-mode page request is never reported: bad_req (svm->mm is NULL) answers it INVALID', () => {
    for (const preset of ['v7', 'v8']) {
      bound(preset)
        .when(page_request(P))
        .then(
          ...notReported,
          emits('page_response.sent', { rid: RID, pasid: P, prg: 5, code: 'INVALID', by: 'prq_event_thread', why: 'svm->mm is NULL (guest mode)' }),
          sends('mdev-parent', 'page_group_response', { rid: RID, pasid: P, prg: 5, code: QI_RESP_INVALID }),
        );
    }
  });

  it('v1-v6 (v5.7/v5.8 hosts, [M]) take the same path: no report to the guest', () => {
    for (const preset of ['v1', 'v3', 'v6']) bound(preset).when(page_request(P)).then(...notReported, emits('page_response.sent', { code: 'INVALID', by: 'prq_event_thread' }));
  });

  it('an unknown PASID is answered QI_RESP_FAILURE (0xf), and the thread prints it', () => {
    bound('v8')
      .when(page_request(77))
      .then(
        emits('page_response.sent', { pasid: 77, code: 'FAILURE', why: 'unknown PASID' }),
        sends('mdev-parent', 'page_group_response', { pasid: 77, code: QI_RESP_FAILURE }),
        emits('dmesg', { level: 'err', fn: 'prq_event_thread', text: 'dmar0: Page request for invalid PASID 77: 4d6a080101 0080002d' }),
      );
  });

  it('a request without PASID is answered QI_RESP_FAILURE too', () => {
    bound('v8').when(page_request(P, { pasid_present: false })).then(emits('page_response.sent', { code: 'FAILURE', why: 'no PASID' }), sends('mdev-parent', 'page_group_response', { code: QI_RESP_FAILURE }));
  });

  it('bad_req is gated on LPIG, or PDP with the fix (bug #8): v7 drops a PDP-only request of its own bound PASID, v8 answers it', () => {
    const pdpOnly = page_request(P, { lpig: false, priv_data_present: true });
    bound('v7').when(pdpOnly).then(...notReported, emits('page_request.dropped', { pasid: P, lpig: false, pdp: true, why: 'svm->mm is NULL (guest mode)' }), sendsTimes('mdev-parent', 'page_group_response', 0));
    bound('v8').when(pdpOnly).then(...notReported, sends('mdev-parent', 'page_group_response', { pasid: P, code: QI_RESP_INVALID }));
  });

  it('bug #7 (sdev->sid never set, v7): the sdev lookup misses; bad_req WARNs on it and still answers INVALID', () => {
    bound('v7')
      .when(page_request(P))
      .then(
        emits('dmesg', { level: 'warn', fn: 'prq_event_thread' }),
        emits('page_response.sent', { code: 'INVALID', why: 'svm->mm is NULL (guest mode)' }),
      );
    bound('v8').when(page_request(P)).then(doesNotEmit('dmesg'), emits('page_response.sent', { code: 'INVALID' }));
  });
});

describe('prq_event_thread from ~v5.13 (mainline, DOMAIN.md §2.6)', () => {
  it('a good request of a guest-mode svm is reported to its VM; with LPIG the core keeps it pending', () => {
    bound('mainline')
      .when(page_request(P))
      .then(
        emits('page_request.reported', { vm: 'vm1', rid: RID, pasid: P, prg: 5, lpig: true, needsResponse: true }),
        sends('guest-viommu', 'iommu_report_device_fault', { vm: 'vm1', pasid: P, prg: 5, lpig: true }),
        sendsTimes('mdev-parent', 'page_group_response', 0),
        holds((o) => expect(Object.keys(o.state.pendingFaults)).toEqual([`${RID}:${P}:5`])),
      );
  });

  it('the override vtd.prq_report_guest=true gives v8 the reporting thread', () => {
    bound('v8', { 'vtd.prq_report_guest': true }).when(page_request(P)).then(emits('page_request.reported', { vm: 'vm1', pasid: P }));
  });

  it('bad requests are answered INVALID, printed as the kernel prints them: unknown PASID, privileged mode', () => {
    bound('mainline')
      .when(page_request(77))
      .then(emits('page_response.sent', { pasid: 77, code: 'INVALID', why: 'unknown PASID' }), emits('dmesg', { level: 'err', text: 'dmar0: Invalid page request: 4d6a080101 0080002d' }));
    bound('mainline')
      .when(page_request(P, { pm_req: true }))
      .then(...notReported, emits('page_response.sent', { code: 'INVALID' }), emits('dmesg', { text: 'IOMMU: dmar0: Page request in Privilege Mode' }));
  });

  it('bug #7 on a reporting host (override): no sdev matches the RID, bad_req answers INVALID instead of reporting', () => {
    bound('mainline', { 'vtd.bind_sets_sdev_sid': false })
      .when(page_request(P))
      .then(...notReported, emits('page_response.sent', { code: 'INVALID', why: `no sdev with sid ${RID} for PASID ${P}` }));
  });
});

describe('the drain at unbind runs the held PRQ thread first (bug #10, DOMAIN.md §2.6.5)', () => {
  const held = (preset: string) => given('host-vtd', ...boundOn(preset, {}, true), page_request(P));

  it('v8: the request still queued for the PASID is answered by bad_req before the drain descriptors', () => {
    held('v8')
      .when(iommu_sva_unbind_gpasid({ pasid: P }))
      .then(
        returns(0),
        emitsInOrder('pasid_entry.cleared', 'page_response.sent', 'prq.pass_done', 'qi.drain', 'prq.drained', 'svm.unbound'),
        emits('page_response.sent', { pasid: P, code: 'INVALID', by: 'prq_event_thread' }),
        emits('svm.unbound', { hpasid: P, drained: true }),
      );
  });

  it('mainline: the sdev is unlinked first (list_del_rcu), so the drain\'s pass answers the request INVALID itself, never reporting it to a guest whose PASID is going', () => {
    held('mainline')
      .when(iommu_sva_unbind_gpasid({ pasid: P }))
      .then(
        returns(0),
        ...notReported,
        emitsInOrder('svm.sdev_unlinked', 'pasid_entry.cleared', 'page_response.sent', 'prq.pass_done', 'qi.drain', 'prq.drained', 'svm.unbound'),
        emits('page_response.sent', { pasid: P, code: 'INVALID', by: 'prq_event_thread', why: `no sdev with sid ${RID} for PASID ${P}` }),
      );
  });

  it('mainline: a fault reported before the unbind and still unanswered is completed INVALID by the drain', () => {
    given('host-vtd', ...boundOn('mainline'), page_request(P))
      .when(iommu_sva_unbind_gpasid({ pasid: P }))
      .then(returns(0), emitsInOrder('qi.drain', 'prq.drained', 'page_response.sent', 'svm.unbound'), emits('page_response.sent', { pasid: P, code: 'INVALID', by: 'drain' }));
  });

  it('v2 (no draining): the request stays in the PRQ and the unbind is undrained', () => {
    held('v2').when(iommu_sva_unbind_gpasid({ pasid: P })).then(returns(0), doesNotEmit('prq.pass_done'), emits('svm.unbound', { hpasid: P, drained: false }));
  });
});
