import { describe, expect, it } from 'vitest';
import { EIO, ENODEV, RID, doesNotEmit, emits, given, holds, returns, sends, sendsTimes, type Input } from './gwt.js';
import { DSA0, TOPOLOGY, runOpen } from './inputs.js';

// Fault injection on a parent (device-fault.ts): a device_fault step arms the fault, which the device
// (ite) or the host's PRQ (prq_overflow) then plays; a fault_storm step makes the mdev's device issue
// DMA that faults, which the host walks and records.

/** gvt0: a parent that is not behind the IOMMU (GVT-g style), beside dsa0. */
const GVT0 = { id: 'gvt0', kind: 'non-iommu' as const, ats: false, pri: false, pasid_bits: 0, aux: false };
const topology = { ...TOPOLOGY, parents: [DSA0, GVT0], vms: [{ ...TOPOLOGY.vms[0]!, mdevs: [{ id: 'mdev1', parent: 'dsa0' }, { id: 'gvt1', parent: 'gvt0' }] }] };

const step = (type: string, payload: Record<string, unknown>): Input => ({ type: `step.${type}`, from: 'orchestrator', payload: { step: 7, ...payload } });
const created = (mdev: string, parent: string): Input => step('mdev_create', { mdev, parent, vm: 'vm1' });
const deviceFault = (fault: string, count: number, parent = 'dsa0') => step('device_fault', { parent, fault, count });
/** the host's devTLB invalidation of PASID 3 reaching the device (qi_flush_dev_iotlb_pasid) */
const devtlbInvalidate: Input = { type: 'devtlb_invalidate', from: 'host-vtd', payload: { rid: RID, pasid: 3, first: 0, npages: null, tag: 'qi' } };

const machine = (...more: Input[]) => given<{ ite: Record<string, number> }>('mdev-parent', runOpen('v8', {}, topology), created('mdev1', 'dsa0'), created('gvt1', 'gvt0'), ...more);

describe('device_fault ite: the device lets its next `count` devTLB invalidations time out', () => {
  it('arming it completes the step and says what it armed', () => {
    machine().when(deviceFault('ite', 2)).then(returns(0), emits('device.fault_injected', { parent: 'dsa0', rid: RID, fault: 'ite', count: 2 }), holds((o) => expect(o.state.ite).toEqual({ dsa0: 2 })));
  });

  it('each armed invalidation times out (an ITE for the host), the TLB untouched; the last one disarms it', () => {
    machine(deviceFault('ite', 2))
      .when(devtlbInvalidate)
      .then(
        returns(-EIO), emits('devtlb.timed_out', { rid: RID, pasid: 3, left: 1 }), doesNotEmit('devtlb.invalidated'),
        holds((o) => expect(o.reply!.detail).toEqual({ ite: true, rid: RID, absent: false })),
        holds((o) => expect(o.state.ite).toEqual({ dsa0: 1 })),
      );
    machine(deviceFault('ite', 1)).when(devtlbInvalidate).then(returns(-EIO), emits('devtlb.timed_out', { left: 0 }), holds((o) => expect(o.state.ite).toEqual({})));
  });

  it('unarmed (or healed), the device completes the invalidation', () => {
    machine().when(devtlbInvalidate).then(returns(0), emits('devtlb.invalidated', { rid: RID, pasid: 3 }), doesNotEmit('devtlb.timed_out'));
  });

  it('a removed device never answers: its ITE says so, whatever was armed', () => {
    machine(deviceFault('ite', 1), step('device_remove', { parent: 'dsa0' }))
      .when(devtlbInvalidate)
      .then(returns(-EIO), holds((o) => expect(o.reply!.detail).toEqual({ ite: true, rid: RID, absent: true })));
  });

  it('a parent that is gone or not behind the IOMMU: -ENODEV, nothing armed', () => {
    machine().when(deviceFault('ite', 1, 'gvt0')).then(returns(-ENODEV), doesNotEmit('device.fault_injected'));
    machine(step('device_remove', { parent: 'dsa0' })).when(deviceFault('prq_overflow', 1)).then(returns(-ENODEV), doesNotEmit('device.fault_injected'));
  });
});

describe('device_fault prq_overflow: the host\'s PRQ is full for the device', () => {
  it('the parent records it and hands it to the host, which completes the step', () => {
    machine()
      .when(deviceFault('prq_overflow', 3))
      .then(emits('device.fault_injected', { fault: 'prq_overflow', count: 3 }), sends('host-vtd', 'prq_full', { rid: RID, count: 3, step: 7 }), holds((o) => expect(o.state.ite).toEqual({})));
  });
});

describe('fault_storm: the device issues DMA that faults', () => {
  it('an IOMMU-backed mdev\'s device sends the burst to the host, which records it and completes the step', () => {
    machine().when(step('fault_storm', { mdev: 'mdev1', count: 16 })).then(
      emits('fault_storm.issued', { mdev: 'mdev1', vm: 'vm1', rid: RID, count: 16 }),
      sends('host-vtd', 'dma_request_burst', { rid: RID, mdev: 'mdev1', count: 16, step: 7 }),
      sendsTimes('host-vtd', 'dma_request_burst', 1),
    );
  });

  it('a non-IOMMU mdev (no IOMMU in its DMA path) and an unknown one: -ENODEV', () => {
    machine().when(step('fault_storm', { mdev: 'gvt1', count: 4 })).then(returns(-ENODEV), sendsTimes('host-vtd', 'dma_request_burst', 0));
    machine().when(step('fault_storm', { mdev: 'nope', count: 4 })).then(returns(-ENODEV));
  });
});
