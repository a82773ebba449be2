import { z } from 'zod';
import type { PolicyValues } from '../policy.js';
import type { Topology } from '../run-spec.js';
import { repliesTo, RequestFields, StepFields, type CallEvents, type LogEvents, type PayloadsOf } from './message.js';
import { RunOpenSchema } from './run.js';

/** The device and hardware faults a scenario (or the chaos runner) injects with a `device_fault` step. */
export const DEVICE_FAULTS = ['ite', 'prq_overflow'] as const;
export type DeviceFault = (typeof DEVICE_FAULTS)[number];

/** A device op of a scenario step or of the background workload. */
const DeviceOp = { ...StepFields, mdev: z.string(), pasid: z.number().int(), va: z.number(), write: z.boolean().optional() };

/**
 * The mdev parent drivers and their physical devices (the device side: DMA, the device TLB, PRI):
 * what the others ask of them.
 */
export const MdevParentInputSchemas = {
  'run.open': RunOpenSchema,
  'step.mdev_create': z.object({ ...StepFields, mdev: z.string(), parent: z.string(), vm: z.string() }),
  /** a fault model: the parent driver drops the mdev's IOMMU device after attach */
  'step.mdev_clear_iommu_device': z.object({ ...StepFields, mdev: z.string() }),
  'step.dma': z.object(DeviceOp),
  'step.page_request': z.object({
    ...DeviceOp, lpig: z.boolean(), pdp: z.boolean(), pasid_present: z.boolean(), pm_req: z.boolean(), exe_req: z.boolean(), prg: z.number().int().optional(),
  }),
  'step.pin_pages': z.object({ ...StepFields, mdev: z.string(), gpa: z.number(), pages: z.number().int().positive() }),
  'step.mdev_remove': z.object({ ...StepFields, mdev: z.string() }),
  'step.device_remove': z.object({ ...StepFields, parent: z.string() }),
  /** fault injection: the parent's next `count` devTLB invalidations time out (ite), or the PRQ has no room for its next `count` page requests */
  'step.device_fault': z.object({ ...StepFields, parent: z.string(), fault: z.enum(DEVICE_FAULTS), count: z.number().int().min(1).max(16) }),
  /** the device issues `count` DMA requests that fault non-recoverably */
  'step.fault_storm': z.object({ ...StepFields, mdev: z.string(), count: z.number().int().min(1).max(64) }),
  /** VFIO asks which device backs an mdev (NULL for one that is not IOMMU-backed) */
  vfio_mdev_get_iommu_device: z.object({ mdev: z.string(), ...RequestFields }),
  /** a devTLB invalidation descriptor reaching the device (ATS Invalidate); npages null: all */
  devtlb_invalidate: z.object({ rid: z.string(), pasid: z.number().int(), first: z.number(), npages: z.number().nullable(), ...RequestFields }),
  /** a page group response reaching the device */
  page_group_response: z.object({ rid: z.string(), pasid: z.number().int(), prg: z.number().int(), code: z.number().int() }),
  /** VFIO's DMA-unmap notifier: the vendor driver unpins what it pinned in the range */
  vfio_dma_unmap_notify: z.object({ vm: z.string(), mdev: z.string(), iova: z.number(), size: z.number(), last: z.boolean().optional(), ...RequestFields }),
  ...repliesTo('ats_translate', 'dma_request', 'vfio_pin_pages', 'pci_surprise_removal', 'prq_full', 'dma_request_burst'),
};
export type MdevParentInputs = PayloadsOf<typeof MdevParentInputSchemas>;

/** What a translation reply carries (ats_translate.ret / dma_request.ret `value`): the host page and its write permission. */
export const TranslationSchema = z.object({ hpa: z.number(), w: z.boolean() });
/** What vfio_pin_pages.ret carries (`value`): the host page of each pinned GPA page, in order. */
export const PinnedHpasSchema = z.array(z.number());

/** A DMA the device has in flight: waiting for a translation (ATS) or for a page response. */
export type DmaInFlight = {
  step: number;
  mdev: string;
  rid: string;
  pasid: number;
  va: number;
  write: boolean;
  /** a devTLB invalidation of this (RID, PASID) arrived while the translation was outstanding */
  poisoned: boolean;
  /** already retried after a page response (one retry, then it faults) */
  retried: boolean;
};

/** What a DMA did, as its events say it. */
type DmaAt = { mdev: string; vm: string; pasid: number; va: number; page: number; write: boolean };

/**
 * What the component records about itself. `W` is its parked continuation (libs/domain
 * mdev-parent/state.ts MdevCall): a DMA waiting for its translation, a pin waiting for VFIO.
 */
export type MdevParentEvents<W = unknown> = {
  'parents.probed': { parents: Topology['parents']; topology: Topology; policy: PolicyValues };
  'mdev.created': { mdev: string; parent: string; vm: string; iommuDevice: string | null };
  /** the fault model: the parent driver dropped the mdev's IOMMU device */
  'mdev.iommu_device_cleared': { mdev: string; was: string | null };
  'mdev.removed': { mdev: string; vm: string };
  /** a parent surprise-removed */
  'device.removed': { parent: string; rid: string | null; surprise: boolean };
  /** a fault injected into a parent: its next `count` devTLB invalidations time out (ite), or the host's PRQ is full for it (prq_overflow) */
  'device.fault_injected': { parent: string; rid: string; fault: DeviceFault; count: number };
  /** the device let an ATS Invalidate time out (an injected ite): it completes nothing, its TLB keeps the entries */
  'devtlb.timed_out': { rid: string; pasid: number; left: number };
  /** the device issued `count` DMA requests with a PASID the IOMMU has no entry for (a fault storm) */
  'fault_storm.issued': { mdev: string; vm: string; rid: string; count: number };
  'dma.completed': DmaAt & { rid: string | null; hpa: number; source: 'pinned' | 'devtlb' | 'ats' | 'untranslated' };
  'dma.failed': { mdev: string; why: string } & Partial<DmaAt>;
  'dma.faulted': DmaAt & { rid: string; reason: number | string | null };
  /** an invalidation overtook the translation: the device discards it and asks again */
  'dma.retranslate': DmaAt & { rid: string };
  /**
   * A DMA waits for the page group response to the page request it turned its translation fault into.
   * Device state, not a call (the response is not the reply of a request: the host may never send
   * it), so the mdev's own event; `dma.resumed` ends the wait.
   */
  'dma.waiting_prg': { tag: string; dma: DmaInFlight; key: string };
  'dma.resumed': { tag: string };
  'devtlb.filled': { rid: string; pasid: number; page: number; hpa: number; w: boolean };
  /** an ATS Invalidate: the pages dropped, and the DMAs in flight on the (RID, PASID) it poisoned */
  'devtlb.invalidated': { rid: string; pasid: number; first: number; npages: number | null; pages: number[]; processed: number; poisoned: string[]; known: boolean };
  'page_request.issued': {
    mdev: string; vm: string; rid: string; pasid: number; addr: number; prg: number; lpig: boolean; pdp: boolean; pasid_present: boolean; needsResponse: boolean; dma: string | null;
  };
  'page_response.received': { rid: string; pasid: number; prg: number; code: number; matched: boolean; mdev: string | null };
  'notifier.registered': { mdev: string; vm: string };
  'pages.pinned': { mdev: string; pages: number[]; hpas: number[] };
  'pages.unpinned': { mdev: string; pages: number[] };
  'dma_unmap.notified': { mdev: string; pages: number[]; unpinned: boolean };
  ignored: { why: string };
} & CallEvents<W> & LogEvents;
