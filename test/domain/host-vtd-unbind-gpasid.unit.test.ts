import { describe, it } from 'vitest';
import type { Topology } from '../../libs/domain/src/index.js';
import {
  EACCES, EINVAL, EIO, ENOENT, RID, doesNotEmit, doesNotReturn, emits, emitsInOrder, given, oopses, returns, sends, sendsTimes, type Input,
} from './gwt.js';
import {
  DSA0, HOST, TOPOLOGY, gpasidBindData, ioasid_alloc, iommu_aux_attach_device, iommu_domain_alloc, iommu_sva_bind_gpasid, iommu_sva_unbind_gpasid, runOpen,
} from './inputs.js';

// intel_svm_unbind_gpasid (DOMAIN.md §2.3): intel_pasid_tear_down_entry (clear, PASID cache, PIOTLB,
// devTLB), then intel_svm_drain_prq (§2.6.5), then the sdev goes.

const P = 3; // vm1's PASID, bound on dsa0 through vm1's aux domain 1 (DID 2)
const Q = 4; // vm2's PASID

const attached = (preset: string, sets: Record<string, string | boolean> = {}, topology: Topology = TOPOLOGY): Input[] => [
  runOpen(preset, sets, topology),
  iommu_domain_alloc('vm1'),
  iommu_aux_attach_device('vm1', 1, 'mdev1'),
  iommu_domain_alloc('vm2'),
  iommu_aux_attach_device('vm2', 2, 'mdev3'),
  ioasid_alloc('vm1', P),
  ioasid_alloc('vm2', Q),
];
const bound = (preset: string, sets: Record<string, string | boolean> = {}, topology: Topology = TOPOLOGY) =>
  given('host-vtd', ...attached(preset, sets, topology), iommu_sva_bind_gpasid({ data: gpasidBindData(P) }));
const unbind = (pasid: number, over: Partial<Parameters<typeof iommu_sva_unbind_gpasid>[0]> = {}) => iommu_sva_unbind_gpasid({ ...over, pasid });
const rejected = (errno: string, why: string) => emits('unbind_gpasid.rejected', { dev: RID, errno, why });

describe('intel_svm_unbind_gpasid: success', () => {
  it('tears the entry down in the kernel\'s order: clear, PASID cache, PIOTLB, devTLB, drain, then the sdev goes', () => {
    bound('mainline')
      .when(unbind(P))
      .then(
        returns(0),
        // tear_down_entry: clear, PASID cache, PIOTLB, devTLB; drain_prq: [wait(FENCE), PIOTLB, devTLB]; free the sdev
        emitsInOrder('pasid_entry.cleared', 'qi.pasid_cache', 'qi.piotlb', 'qi.devtlb', 'qi.drain', 'qi.piotlb', 'qi.devtlb', 'prq.drained', 'svm.unbound', 'qi.wait'),
        emits('pasid_entry.cleared', { dev: RID, pasid: P, did: 2, vm: 'vm1', via: 'intel_pasid_tear_down_entry' }),
        emits('qi.pasid_cache', { did: 2, pasid: P, granu: 'PASID_SEL', why: 'teardown' }),
        emits('qi.piotlb', { did: 2, pasid: P, granu: 'NONG_PASID', why: 'teardown' }),
        emits('qi.devtlb', { sid: RID, pasid: P, addr: 0, npages: -1, why: 'teardown' }),
        emits('qi.drain', { pasid: P, sid: RID, opts: 'WAIT_DRAIN', fence: true }),
        // the drain's devTLB descriptor has qw1 = 0: one page at address 0 (DOMAIN.md §7.10)
        emits('qi.devtlb', { sid: RID, pasid: P, addr: 0, npages: 1, why: 'drain' }),
        sends('mdev-parent', 'devtlb_invalidate', { rid: RID, pasid: P, first: 0, npages: 1 }),
        emits('svm.unbound', { vm: 'vm1', dev: RID, hpasid: P, unwind: false, drained: true }),
        // the PASID itself stays allocated: VFIO owns it
        doesNotEmit('ioasid.freed'),
      );
  });

  it('waits for the device to complete the devTLB invalidation: no answer, and the sdev stays, until it does', () => {
    bound('mainline')
      .when(unbind(P))
      .where({ devtlb_invalidate: null })
      .then(doesNotReturn, sends('mdev-parent', 'devtlb_invalidate', { rid: RID, pasid: P, first: 0, npages: null }), emits('call.parked'), doesNotEmit('qi.drain'), doesNotEmit('svm.unbound'));
  });

  it('bug #15 (DOMAIN.md §7.10): unbind_gpasid passes fault_ignore = false, so no preset sets FPD; only the override does', () => {
    for (const preset of ['v7', 'v8', 'mainline']) bound(preset).when(unbind(P)).then(returns(0), emits('pasid_entry.cleared', { pasid: P, fpd: false }));
    bound('mainline', { 'vtd.fpd_on_teardown': true }).when(unbind(P)).then(returns(0), emits('pasid_entry.cleared', { pasid: P, fpd: true }));
  });

  it('bug #7 does not reach the teardown: with sdev->sid never set (v7) the teardown and drain devTLB descriptors still take the device\'s sid from device_domain_info', () => {
    bound('v7')
      .when(unbind(P))
      .then(
        returns(0),
        emits('qi.devtlb', { sid: RID, pasid: P, why: 'teardown' }),
        emits('qi.devtlb', { sid: RID, pasid: P, why: 'drain' }),
        emits('qi.drain', { pasid: P, sid: RID }),
        sends('mdev-parent', 'devtlb_invalidate', { rid: RID }),
        sendsTimes('mdev-parent', 'devtlb_invalidate', 2),
      );
  });

  it('bug #10: before page-request draining (v2) the sdev goes right after the flushes, undrained', () => {
    bound('v2').when(unbind(P)).then(returns(0), doesNotEmit('qi.drain'), doesNotEmit('prq.drained'), emits('svm.unbound', { hpasid: P, drained: false }), sendsTimes('mdev-parent', 'devtlb_invalidate', 1));
  });

  it('in caching mode the teardown sends no devTLB invalidation', () => {
    bound('v2', {}, { ...TOPOLOGY, host: { ...HOST, caching_mode: true } })
      .when(unbind(P))
      .then(returns(0), doesNotEmit('qi.devtlb'), sendsTimes('mdev-parent', 'devtlb_invalidate', 0), emits('svm.unbound', { hpasid: P }));
  });

  it('DOMAIN.md §7.10: a device without ATS gets no devTLB flush at teardown, and without PRI intel_svm_drain_prq returns at once', () => {
    bound('mainline', {}, { ...TOPOLOGY, parents: [{ ...DSA0, ats: false, pri: false }] })
      .when(unbind(P))
      .then(
        returns(0),
        sendsTimes('mdev-parent', 'devtlb_invalidate', 0),
        doesNotEmit('qi.devtlb'),
        doesNotEmit('qi.drain'),
        emits('prq.drain_skipped', { pasid: P, dev: RID }),
        // nothing can be pending without PRI: the unbind counts as drained
        emits('svm.unbound', { hpasid: P, drained: true }),
      );
  });

  it('DOMAIN.md §7.10: a device with ATS but without PRI gets the teardown devTLB flush, and no drain', () => {
    bound('mainline', {}, { ...TOPOLOGY, parents: [{ ...DSA0, pri: false }] })
      .when(unbind(P))
      .then(returns(0), sendsTimes('mdev-parent', 'devtlb_invalidate', 1), emits('qi.devtlb', { why: 'teardown', npages: -1 }), doesNotEmit('qi.drain'), emits('prq.drain_skipped', { pasid: P }));
  });

  it('an aux device bound twice (v1, users = 2) only drops a user: the entry stays', () => {
    given('host-vtd', ...attached('v1'), iommu_sva_bind_gpasid({ data: gpasidBindData(P) }), iommu_sva_bind_gpasid({ vm: 'vm2', domain: 2, mdev: 'mdev3', data: gpasidBindData(P) }))
      .when(unbind(P))
      .then(returns(0), emits('svm.users_dec', { dev: RID, hpasid: P, users: 1 }), doesNotEmit('pasid_entry.cleared'), doesNotEmit('svm.unbound'));
  });
});

describe('intel_svm_unbind_gpasid: nothing to unbind', () => {
  it('v2+: no sdev for (dev, PASID) returns 0 silently', () => {
    given('host-vtd', ...attached('v7')).when(unbind(P)).then(returns(0), emits('unbind_gpasid.noop', { dev: RID, pasid: P }), doesNotEmit('pasid_entry.cleared'));
  });

  it('v1: a PASID never bound on the device is -EINVAL (Yi Liu on v1 6/8)', () => {
    given('host-vtd', ...attached('v1')).when(unbind(P)).then(returns(-EINVAL), rejected('EINVAL', 'PASID never bound on this device'));
  });
});

describe('intel_svm_unbind_gpasid: errors', () => {
  it('-EINVAL: PASID 0 or at PASID_MAX', () => {
    bound('v7').when(unbind(0)).then(returns(-EINVAL), rejected('EINVAL', 'PASID outside (0, PASID_MAX)'));
    bound('v7').when(unbind(0x100000)).then(returns(-EINVAL), rejected('EINVAL', 'PASID outside (0, PASID_MAX)'));
  });

  it('v7 ownership: -EACCES for another VM\'s PASID, -ENOENT for one never allocated; the binding stays', () => {
    bound('v7').when(unbind(Q)).then(returns(-EACCES), rejected('EACCES', 'ioasid_find: PASID belongs to set vm2'), doesNotEmit('pasid_entry.cleared'));
    bound('v7').when(unbind(99)).then(returns(-ENOENT), rejected('ENOENT', 'ioasid_find: PASID not allocated'));
  });

  it('VFIO\'s unwind skips the ownership check: vm1\'s unwind tears down vm2\'s binding of the same (dev, PASID)', () => {
    given('host-vtd', ...attached('v7'), iommu_sva_bind_gpasid({ vm: 'vm2', domain: 2, mdev: 'mdev3', data: gpasidBindData(Q) }))
      .when(unbind(Q, { unwind: true }))
      .then(returns(0), emits('pasid_entry.cleared', { dev: RID, pasid: Q, vm: 'vm2' }), emits('svm.unbound', { vm: 'vm1', hpasid: Q, unwind: true }));
  });

  it('a NULL device oopses in intel_svm_unbind_gpasid (v1 VFIO hands it over: bug #1)', () => {
    bound('v1').when(unbind(P, { dev: null, mdev: 'mdev2' })).then(oopses('intel_svm_unbind_gpasid'), emits('oops', { fn: 'intel_svm_unbind_gpasid' }));
  });
});

describe('intel_svm_unbind_gpasid: a surprise-removed device (bug #16)', () => {
  const removed: Input = { type: 'pci_surprise_removal', from: 'mdev-parent', payload: { rid: RID } };

  it('v7: the devTLB invalidation gets an ITE from the gone device, qi_submit_sync resubmits forever: the CPU hangs, no answer', () => {
    bound('v7')
      .when(unbind(P))
      .where({ devtlb_invalidate: { ret: -EIO, detail: { ite: true, rid: RID, absent: true } } })
      .then(doesNotReturn, emits('qi.ite', { rid: RID, pasid: P, attempt: 1 }), emits('qi.hung', { rid: RID, fn: 'qi_submit_sync' }), doesNotEmit('qi.resubmitted'), doesNotEmit('svm.unbound'));
  });

  it('mainline (80a9b50c0b9e, 4fc82cd907ac): an absent device\'s devTLB flush is skipped and the unbind completes', () => {
    given('host-vtd', ...attached('mainline'), iommu_sva_bind_gpasid({ data: gpasidBindData(P) }), removed)
      .when(unbind(P))
      .then(returns(0), emits('qi.devtlb_skipped', { sid: RID, pasid: P, why: 'teardown' }), sendsTimes('mdev-parent', 'devtlb_invalidate', 0), emits('svm.unbound', { hpasid: P }));
  });
});
