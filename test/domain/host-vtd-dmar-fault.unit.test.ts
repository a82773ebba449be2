import { describe, expect, it } from 'vitest';
import { FAULT_REASON } from '../../libs/contracts/src/index.js';
import { RID, doesNotEmit, emits, given, holds, sends, type Input, type Outcome } from './gwt.js';
import { gpasidBindData, ioasid_alloc, iommu_aux_attach_device, iommu_domain_alloc, iommu_sva_bind_gpasid, runOpen } from './inputs.js';

// A fault storm (a fault_storm step): the device's DMA with a PASID the IOMMU has no entry for, each a
// non-recoverable fault; dmar_fault prints them under its ratelimit (DEFAULT_RATELIMIT_BURST 10 lines).

const LAST = 0xfffff; // PASID_MAX - 1: the PASID a storm takes when no entry holds it

const burst = (count: number): Input => ({ type: 'dma_request_burst', from: 'mdev-parent', payload: { rid: RID, mdev: 'mdev1', count, step: 7 } });
const untranslated = (pasid: number, va: number): Input => ({ type: 'dma_request', from: 'mdev-parent', payload: { rid: RID, pasid, va, write: true, mdev: 'mdev1', tag: 'dev' } });
const host = (preset: string, ...more: Input[]) => given('host-vtd', runOpen(preset), iommu_domain_alloc('vm1'), iommu_aux_attach_device('vm1', 1, 'mdev1'), ...more);
const lines = (o: Outcome<unknown>) => o.outputs.filter((x) => x.type === 'dmesg').map((x) => (x.payload as { text: string }).text);
const of = (o: Outcome<unknown>, type: string) => o.outputs.filter((x) => x.type === type).map((x) => x.payload as Record<string, unknown>);

describe('a storm of 16', () => {
  it('every request faults at the PASID-table entry (0x59), each recorded; the step completes ok', () => {
    for (const preset of ['v1', 'v8', 'mainline']) {
      host(preset).when(burst(16)).then(
        holds((o) => expect(of(o, 'fault.recorded')).toEqual(Array.from({ length: 16 }, (_, i) => ({ rid: RID, pasid: LAST, va: i * 4096, reason: FAULT_REASON.PASID_ENTRY_P, level: 'pasid', vm: null, mdev: 'mdev1', forwarded: false })))),
        holds((o) => expect(of(o, 'translation.fault').every((f) => f.via === 'untranslated' && f.fpd === false)).toBe(true)),
        doesNotEmit('translation.done'),
        sends('orchestrator', 'step.completed', { step: 7, outcome: { ret: 0 } }),
      );
    }
  });

  it('the ratelimit: the status line and 9 records, 7 swallowed; v5.10 wording (v8)', () => {
    host('v8').when(burst(16)).then(
      holds((o) => expect(lines(o)).toEqual([
        'DMAR: DRHD: handling fault status reg 2',
        ...Array.from({ length: 9 }, (_, i) => `DMAR: [DMA Read] Request device [6a:01.0] PASID fffff fault addr ${(i * 4096).toString(16)} [fault reason 89] SM: Present bit in PASID Table Entry is clear`),
      ])),
      emits('dmar_fault.handled', { records: 16, printed: 10, suppressed: 7 }),
    );
  });

  it('v5.15 wording (mainline): PASID and reason in hex, the address with 0x', () => {
    host('mainline').when(burst(2)).then(holds((o) => expect(lines(o)).toEqual([
      'DMAR: DRHD: handling fault status reg 2',
      'DMAR: [DMA Read PASID 0xfffff] Request device [6a:01.0] fault addr 0x0 [fault reason 0x59] SM: Present bit in PASID Table Entry is clear',
      'DMAR: [DMA Read PASID 0xfffff] Request device [6a:01.0] fault addr 0x1000 [fault reason 0x59] SM: Present bit in PASID Table Entry is clear',
    ])), emits('dmar_fault.handled', { records: 2, printed: 3, suppressed: 0 }));
  });

  it('a PASID with an entry on the device is never the storm\'s: it takes the next one down', () => {
    host('mainline', ioasid_alloc('vm1', LAST), iommu_sva_bind_gpasid({ data: gpasidBindData(LAST) }))
      .when(burst(1))
      .then(emits('fault.recorded', { pasid: LAST - 1, reason: FAULT_REASON.PASID_ENTRY_P }), doesNotEmit('translation.done'));
  });

  it('the next fault starts a new ratelimit interval: first "dmar_fault: 7 callbacks suppressed", then the fault printed', () => {
    host('v8', burst(16))
      .when(untranslated(5, 0x1234))
      .then(
        holds((o) => expect(lines(o)).toEqual([
          'dmar_fault: 7 callbacks suppressed',
          'DMAR: DRHD: handling fault status reg 2',
          'DMAR: [DMA Write] Request device [6a:01.0] PASID 5 fault addr 1000 [fault reason 89] SM: Present bit in PASID Table Entry is clear',
        ])),
        emits('dmesg', { level: 'warn', fn: 'dmar_fault', text: 'dmar_fault: 7 callbacks suppressed' }),
      );
  });
});
