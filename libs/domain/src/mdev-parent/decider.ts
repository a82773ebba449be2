import type { EventOf, InputTo, MdevParentEvents } from '../../../contracts/src/index.js';
import { drop, put, type Command, type Decider } from '../decider.js';
import { evolveCalls } from '../request-reply.js';
import { deviceFault, faultStorm } from './device-fault.js';
import { devtlbInvalidate } from './devtlb-invalidate.js';
import { issueDma, translated } from './dma.js';
import { mdevClearIommuDevice, mdevDeviceCreate, mdevGetIommuDevice } from './mdev-device-create.js';
import { mdevDeviceRemove, pciSurpriseRemoval } from './mdev-device-remove.js';
import { groupResponse } from './page-group-response.js';
import { stepPageRequest } from './page-request.js';
import { evt, prgKey, type MdevCall, type MdevParentState } from './state.js';
import { pinned, stepPinPages, unmapNotify } from './vfio-pin-pages.js';

export type { MdevCall, MdevParentState } from './state.js';

type Out = EventOf<MdevParentEvents<MdevCall>> | Command;

/** The parent drivers and their devices: routes each input to the operation it models, and folds the events. */
export const mdevParentDecider: Decider<MdevParentState, InputTo<'mdev-parent'>, Out> = {
  component: 'mdev-parent',
  initialState: () => ({ parents: {}, mdevs: {}, absent: {}, ite: {}, devtlb: {}, calls: {}, dmas: {}, outstanding: {}, nextPrg: {}, pins: {}, notifiers: {} }),

  decide(s, input): Out[] {
    const type: string = input.type;
    switch (input.type) {
      case 'run.open': {
        const o = input.payload;
        return [evt('parents.probed', { parents: o.topology.parents, topology: o.topology, policy: o.policy })];
      }
      case 'step.mdev_create':
        return mdevDeviceCreate(s, input);
      case 'step.mdev_clear_iommu_device':
        return mdevClearIommuDevice(s, input);
      case 'vfio_mdev_get_iommu_device':
        return mdevGetIommuDevice(s, input);
      case 'step.dma':
        return issueDma(s, input);
      case 'ats_translate.ret':
      case 'dma_request.ret':
        return translated(s, input);
      case 'step.page_request':
        return stepPageRequest(s, input);
      case 'page_group_response':
        return groupResponse(s, input);
      case 'devtlb_invalidate':
        return devtlbInvalidate(s, input);
      case 'step.pin_pages':
        return stepPinPages(s, input);
      case 'vfio_pin_pages.ret':
        return pinned(s, input.payload);
      case 'vfio_dma_unmap_notify':
        return unmapNotify(s, input);
      case 'step.mdev_remove':
        return mdevDeviceRemove(s, input);
      case 'step.device_remove':
        return pciSurpriseRemoval(s, input);
      case 'step.device_fault':
        return deviceFault(s, input);
      case 'step.fault_storm':
        return faultStorm(s, input);
      default:
        return [evt('ignored', { why: `mdev-parent has no handler for ${type}` })];
    }
  },

  evolve(s, o): MdevParentState {
    if (o.kind === 'command') return s;
    switch (o.type) {
      case 'parents.probed': {
        const p = o.payload;
        return { ...s, parents: Object.fromEntries(p.parents.map((x) => [x.id, x])), topology: p.topology, policy: p.policy };
      }
      case 'mdev.created': {
        const p = o.payload;
        return { ...s, mdevs: put(s.mdevs, p.mdev, { parent: p.parent, vm: p.vm, iommuDevice: p.iommuDevice }) };
      }
      case 'mdev.iommu_device_cleared':
        return { ...s, mdevs: put(s.mdevs, o.payload.mdev, { ...s.mdevs[o.payload.mdev]!, iommuDevice: null }) };
      case 'mdev.removed':
        return { ...s, mdevs: put(s.mdevs, o.payload.mdev, { ...s.mdevs[o.payload.mdev]!, removed: true }) };
      case 'device.removed':
        return { ...s, absent: put(s.absent, o.payload.parent, true as const) };
      case 'device.fault_injected': {
        const p = o.payload;
        return p.fault === 'ite' ? { ...s, ite: put(s.ite, p.parent, (s.ite[p.parent] ?? 0) + p.count) } : s;
      }
      case 'devtlb.timed_out': {
        const parent = Object.values(s.parents).find((x) => x.rid === o.payload.rid);
        if (!parent) return s;
        return { ...s, ite: o.payload.left > 0 ? put(s.ite, parent.id, o.payload.left) : drop(s.ite, parent.id) };
      }
      case 'call.parked':
      case 'call.resumed':
        return { ...s, calls: evolveCalls(s.calls, o) };
      // a DMA waiting for a page group response: device state, not a call (page-group-response.ts)
      case 'dma.waiting_prg':
        return { ...s, dmas: put(s.dmas, o.payload.tag, o.payload.dma) };
      case 'dma.resumed':
        return { ...s, dmas: drop(s.dmas, o.payload.tag) };
      case 'devtlb.filled': {
        const { rid, pasid, page, hpa, w } = o.payload;
        const byRid = s.devtlb[rid] ?? {};
        return { ...s, devtlb: put(s.devtlb, rid, put(byRid, pasid, put(byRid[pasid] ?? {}, page, { hpa, w }))) };
      }
      case 'devtlb.invalidated': {
        const { rid, pasid, pages, poisoned } = o.payload;
        let next = s;
        if (s.devtlb[rid]?.[pasid]) {
          const left = { ...s.devtlb[rid]![pasid] };
          for (const pg of pages) delete left[pg];
          next = { ...s, devtlb: put(s.devtlb, rid, put(s.devtlb[rid]!, pasid, left)) };
        }
        if (!poisoned.length) return next;
        // the translations in flight are discarded when they come back; a DMA waiting for a page response retranslates anyway
        const calls = { ...next.calls };
        const dmas = { ...next.dmas };
        for (const t of poisoned) {
          const c = calls[t];
          if (c?.kind === 'translate') calls[t] = { ...c, dma: { ...c.dma, poisoned: true } };
          else if (dmas[t]) dmas[t] = { ...dmas[t], poisoned: true };
        }
        return { ...next, calls, dmas };
      }
      case 'page_request.issued': {
        const p = o.payload;
        const nextPrg = put(s.nextPrg, p.rid, (p.prg + 1) % 512);
        if (!p.needsResponse) return { ...s, nextPrg };
        return { ...s, nextPrg, outstanding: put(s.outstanding, prgKey(p.rid, p.pasid, p.prg), { mdev: p.mdev, dma: p.dma ?? null }) };
      }
      case 'page_response.received': {
        const p = o.payload;
        return p.matched ? { ...s, outstanding: drop(s.outstanding, prgKey(p.rid, p.pasid, p.prg)) } : s;
      }
      case 'notifier.registered':
        return { ...s, notifiers: put(s.notifiers, o.payload.mdev, true as const) };
      case 'pages.pinned': {
        const p = o.payload;
        const mine = { ...(s.pins[p.mdev] ?? {}) };
        p.pages.forEach((g, i) => { mine[g] = { hpa: p.hpas[i]!, refs: (mine[g]?.refs ?? 0) + 1 }; });
        return { ...s, pins: put(s.pins, p.mdev, mine) };
      }
      case 'pages.unpinned': {
        const p = o.payload;
        const mine = { ...(s.pins[p.mdev] ?? {}) };
        // one reference per entry, as vfio_unpin_pages drops them
        for (const g of p.pages) {
          const pin = mine[g];
          if (pin && pin.refs > 1) mine[g] = { ...pin, refs: pin.refs - 1 };
          else delete mine[g];
        }
        return { ...s, pins: put(s.pins, p.mdev, mine) };
      }
      default:
        return s;
    }
  },
};
