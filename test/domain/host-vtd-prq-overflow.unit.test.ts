import { describe, expect, it } from 'vitest';
import { QI_RESP_SUCCESS } from '../../libs/contracts/src/index.js';
import { RID, doesNotEmit, emits, emitsInOrder, given, holds, returns, sends, sendsTimes, type Input } from './gwt.js';
import { HOST, TOPOLOGY, gpasidBindData, ioasid_alloc, iommu_aux_attach_device, iommu_domain_alloc, iommu_sva_bind_gpasid, page_request, runOpen } from './inputs.js';

// A page request the PRQ has no room for (VT-d rev 5.10, 7.4.1, Table 31): not queued, PRS_REG.PRO set,
// and, with LPIG, a Page Group Response from the hardware, code Success. prq_event_thread's handling of
// PRO follows the host kernel: never cleared before v5.8 (v1, v2), cleared silently v5.8-v5.11 (v3-v8),
// cleared with two pr_info lines from 28a77185f1cd (mainline).

const P = 3; // vm1's PASID, bound on dsa0 in guest mode

type S = { pro: boolean; prqFull: Record<string, number>; prq: unknown[] };
const full = (count: number): Input => ({ type: 'prq_full', from: 'mdev-parent', payload: { rid: RID, count, step: 7 } });
const boundOn = (preset: string, held = false): Input[] => [
  runOpen(preset, {}, held ? { ...TOPOLOGY, host: { ...HOST, prq_irq: 'manual' } } : TOPOLOGY),
  iommu_domain_alloc('vm1'), iommu_aux_attach_device('vm1', 1, 'mdev1'), ioasid_alloc('vm1', P),
  iommu_sva_bind_gpasid({ data: gpasidBindData(P) }),
];
const overflowing = (preset: string, count = 1, ...more: Input[]) => given<S>('host-vtd', ...boundOn(preset), full(count), ...more);
const answeredSuccess = [
  emits('page_response.sent', { rid: RID, pasid: P, prg: 5, code: 'SUCCESS', by: 'hardware' }),
  sends('mdev-parent', 'page_group_response', { rid: RID, pasid: P, prg: 5, code: QI_RESP_SUCCESS }),
];
const notSeenBySoftware = [doesNotEmit('prq.queued'), doesNotEmit('page_request.reported'), sendsTimes('guest-viommu', 'iommu_report_device_fault', 0)];

describe('the injection', () => {
  it('a prq_full completes its step and counts the requests the queue has no room for, per device', () => {
    given<S>('host-vtd', ...boundOn('v8')).when(full(2)).then(sends('orchestrator', 'step.completed', { step: 7, outcome: { ret: 0 } }), emits('prq.full', { rid: RID, count: 2 }), holds((o) => expect(o.state.prqFull).toEqual({ [RID]: 2 })));
  });
});

describe('the hardware: a request it cannot queue', () => {
  it('with LPIG: not queued, PRO set, the hardware answers the group Success', () => {
    for (const preset of ['v1', 'v8', 'mainline']) {
      overflowing(preset)
        .when(page_request(P))
        .then(...notSeenBySoftware, ...answeredSuccess, emits('prq.overflow', { rid: RID, pasid: P, prg: 5, lpig: true, pro: 'set', consumed: true }));
    }
  });

  it('without LPIG (nor PDP): dropped, no response from anyone (Table 31)', () => {
    overflowing('mainline')
      .when(page_request(P, { lpig: false }))
      .then(...notSeenBySoftware, emits('page_request.dropped', { rid: RID, pasid: P, lpig: false }), sendsTimes('mdev-parent', 'page_group_response', 0), doesNotEmit('page_response.sent'));
  });

  it('with PDP only: answered Success as LPIG (VT-d 3.x owed PDP a response)', () => {
    overflowing('v8').when(page_request(P, { lpig: false, priv_data_present: true })).then(...answeredSuccess);
  });

  it('the count runs out: the next request is queued and goes to the thread', () => {
    overflowing('mainline', 1, page_request(P, { prg_index: 4 }))
      .when(page_request(P))
      .then(emits('prq.queued', { rid: RID, pasid: P, prg: 5 }), emits('page_request.reported', { pasid: P, prg: 5 }), doesNotEmit('prq.overflow'));
  });
});

describe('prq_event_thread and PRS_REG.PRO', () => {
  it('mainline (28a77185f1cd): the PRO interrupt\'s pass clears it, "PRQ overflow detected" and "cleared"', () => {
    overflowing('mainline')
      .when(page_request(P))
      .then(
        emitsInOrder('prq.overflow', 'page_response.sent', 'prq.pass_done', 'dmesg', 'prq.pro_cleared', 'dmesg'),
        emits('dmesg', { level: 'info', fn: 'prq_event_thread', text: 'IOMMU: dmar0: PRQ overflow detected' }),
        emits('dmesg', { level: 'info', fn: 'prq_event_thread', text: 'IOMMU: dmar0: PRQ overflow cleared' }),
        holds((o) => expect(o.state.pro).toBe(false)),
      );
  });

  it('v3-v8 (66ac4db36f4c): cleared after the pass, without a word', () => {
    for (const preset of ['v3', 'v8']) overflowing(preset).when(page_request(P)).then(emits('prq.pro_cleared'), doesNotEmit('dmesg'), holds((o) => expect(o.state.pro).toBe(false)));
  });

  it('v1, v2 (before 66ac4db36f4c): never cleared, so every later request is dropped too, auto-answered, the injection long spent', () => {
    overflowing('v2', 1, page_request(P, { prg_index: 4 }))
      .when(page_request(P))
      .then(...notSeenBySoftware, ...answeredSuccess, emits('prq.overflow', { pro: 'already set', consumed: false }), doesNotEmit('prq.pro_cleared'), holds((o) => expect(o.state.pro).toBe(true)));
  });

  it('a held PRQ interrupt (prq_irq manual): PRO stays set until the thread runs', () => {
    given<S>('host-vtd', ...boundOn('mainline', true), full(1), page_request(P, { prg_index: 4 }))
      .when(page_request(P))
      .then(emits('prq.overflow', { pro: 'already set', consumed: false }), ...answeredSuccess, doesNotEmit('prq.pass_done'), holds((o) => expect(o.state.pro).toBe(true)));
    given<S>('host-vtd', ...boundOn('mainline', true), full(1), page_request(P, { prg_index: 4 }))
      .when({ type: 'step.prq_irq', from: 'orchestrator', payload: { step: 9 } })
      .then(returns(0), emits('prq.pro_cleared'), emits('dmesg', { text: 'IOMMU: dmar0: PRQ overflow cleared' }), holds((o) => expect(o.state.pro).toBe(false)));
  });

  it('pr_info_ratelimited: past the burst of 10 passes the lines stop, the clearing does not', () => {
    const lpig = (prg: number) => page_request(P, { prg_index: prg });
    overflowing('mainline', 12, ...Array.from({ length: 10 }, (_, i) => lpig(i)))
      .when(lpig(10))
      .then(emits('prq.overflow', { consumed: true }), emits('prq.pro_cleared'), doesNotEmit('dmesg'));
  });
});
