import { describe, expect, it } from 'vitest';
import { EIO, RID, doesNotEmit, doesNotReturn, emits, emitsInOrder, given, holds, returns, sends, sendsTimes, type Answer, type Input } from './gwt.js';
import {
  gpasidBindData, ioasid_alloc, iommu_aux_attach_device, iommu_cache_invalidate, iommu_domain_alloc, iommu_sva_bind_gpasid, iommu_sva_unbind_gpasid, pasidInvalidateInfo, runOpen,
} from './inputs.js';

// An Invalidation Time-out Error on a device that is there (DOMAIN.md §7.13): qi_check_fault aborts the
// wait descriptor, returns -EAGAIN, and qi_submit_sync resubmits; once the device answers, the flush
// goes on. A device_fault ite of `count` is a device that lets `count` invalidations time out.

const P = 3; // vm1's PASID, bound on dsa0 through vm1's aux domain 1 (DID 2)

const bound = (preset: string, sets: Record<string, string | boolean> = {}) => given<{ calls: Record<string, unknown> }>(
  'host-vtd',
  runOpen(preset, sets), iommu_domain_alloc('vm1'), iommu_aux_attach_device('vm1', 1, 'mdev1'), ioasid_alloc('vm1', P),
  iommu_sva_bind_gpasid({ data: gpasidBindData(P) }),
);
const unbind = iommu_sva_unbind_gpasid({ pasid: P });
const timedOut = { ret: -EIO, detail: { ite: true, rid: RID, absent: false } };
/** The device lets its first `n` devTLB invalidations time out, then completes them. */
const itesThenOk = (n: number): Answer => {
  let seen = 0;
  return () => (seen++ < n ? timedOut : { ret: 0, detail: { processed: 0 } });
};

describe('qi_submit_sync after an ITE on a present device', () => {
  it('two ITEs in the teardown flush: two resubmissions of the same descriptor, then the unbind completes, drained', () => {
    for (const preset of ['v8', 'mainline']) {
      bound(preset)
        .when(unbind)
        .where({ devtlb_invalidate: itesThenOk(2) })
        .then(
          returns(0),
          emits('qi.ite', { rid: RID, pasid: P, attempt: 1 }),
          emits('qi.ite', { rid: RID, pasid: P, attempt: 2 }),
          emitsInOrder('qi.devtlb', 'qi.ite', 'qi.resubmitted', 'qi.devtlb', 'qi.ite', 'qi.resubmitted', 'qi.devtlb', 'qi.drain', 'svm.unbound'),
          // the teardown's devTLB descriptor three times, then the drain's
          sendsTimes('mdev-parent', 'devtlb_invalidate', 4),
          holds((o) => expect(o.outputs.filter((x) => x.type === 'qi.devtlb' && (x.payload as { why: string }).why === 'teardown').map((x) => x.payload)).toEqual(Array(3).fill(expect.objectContaining({ sid: RID, pasid: P, addr: 0, npages: -1 })))),
          emits('svm.unbound', { hpasid: P, drained: true }),
          doesNotEmit('qi.hung'),
          // nothing left parked
          holds((o) => expect(o.state.calls).toEqual({})),
        );
    }
  });

  it('an ITE in the drain resubmits the whole submission: [wait(FENCE), PIOTLB, devTLB] again', () => {
    // the teardown's flush completes; the drain's first devTLB descriptor times out
    let n = 0;
    bound('mainline')
      .when(unbind)
      .where({ devtlb_invalidate: () => (n++ === 1 ? timedOut : { ret: 0 }) })
      .then(
        returns(0),
        emitsInOrder('qi.drain', 'qi.piotlb', 'qi.devtlb', 'qi.ite', 'qi.resubmitted', 'qi.piotlb', 'qi.devtlb', 'prq.drained'),
        emits('qi.ite', { attempt: 1 }),
        sends('mdev-parent', 'devtlb_invalidate', { rid: RID, pasid: P, first: 0, npages: 1 }),
        sendsTimes('mdev-parent', 'devtlb_invalidate', 3),
      );
  });

  it('CACHE_INVLD of a PASID with the devTLB: the ITE is retried, then the invalidation returns 0', () => {
    bound('v8')
      .when(iommu_cache_invalidate({ info: pasidInvalidateInfo(P, 2 | 1) }))
      .where({ devtlb_invalidate: itesThenOk(1) })
      .then(returns(0), emitsInOrder('qi.piotlb', 'qi.devtlb', 'qi.ite', 'qi.resubmitted', 'qi.devtlb', 'qi.wait', 'sva_invalidate.done'), sendsTimes('mdev-parent', 'devtlb_invalidate', 2));
  });
});

describe('what the kernel prints for an ITE (vtd.kernel_log)', () => {
  it('v5.10 (v1-v8): qi_check_fault clears the ITE and prints nothing', () => {
    bound('v8').when(unbind).where({ devtlb_invalidate: itesThenOk(1) }).then(returns(0), emits('qi.ite'), doesNotEmit('dmesg'));
  });

  it('v5.15 (mainline): qi_dump_fault names the source id, qi_check_fault says the ITE is cleared, once per ITE', () => {
    bound('mainline')
      .when(unbind)
      .where({ devtlb_invalidate: itesThenOk(2) })
      .then(
        returns(0),
        // PCI_DEVID(0x6a, PCI_DEVFN(1, 0)) = 0x6a08
        emits('dmesg', { level: 'err', fn: 'qi_dump_fault', text: 'DMAR: VT-d detected Invalidation Time-out Error: SID 6a08' }),
        emits('dmesg', { level: 'info', fn: 'qi_check_fault', text: 'DMAR: Invalidation Time-out Error (ITE) cleared' }),
        holds((o) => expect(o.outputs.filter((x) => x.type === 'dmesg').length).toBe(4)),
      );
  });
});

describe('an ITE from a device that is gone (bug #16)', () => {
  const gone = { ret: -EIO, detail: { ite: true, rid: RID, absent: true } };

  it('v8: resubmitted forever, which the model records once as the hang', () => {
    bound('v8').when(unbind).where({ devtlb_invalidate: gone }).then(doesNotReturn, emits('qi.ite', { attempt: 1 }), emits('qi.hung', { rid: RID }), doesNotEmit('qi.resubmitted'));
  });

  it('mainline, the removal not yet seen by pciehp: the v6.9 qi_check_fault finds the ITE\'s device not present, -ETIMEDOUT, and the unbind goes on', () => {
    const removedLater: Input = { type: 'pci_surprise_removal', from: 'mdev-parent', payload: { rid: RID } };
    bound('mainline')
      .when(unbind)
      .where({ devtlb_invalidate: gone })
      .then(returns(0), emits('qi.devtlb_timed_out', { rid: RID, pasid: P }), doesNotEmit('qi.hung'), emits('svm.unbound', { hpasid: P }));
    // once pciehp has run, the flush is not even issued (80a9b50c0b9e, 4fc82cd907ac)
    given('host-vtd', runOpen('mainline'), iommu_domain_alloc('vm1'), iommu_aux_attach_device('vm1', 1, 'mdev1'), ioasid_alloc('vm1', P), iommu_sva_bind_gpasid({ data: gpasidBindData(P) }), removedLater)
      .when(unbind)
      .then(returns(0), sendsTimes('mdev-parent', 'devtlb_invalidate', 0), doesNotEmit('qi.ite'));
  });
});
