import type { PolicyValues } from '../../../contracts/src/index.js';
import type { Topology } from '../topology.js';

/** A DMA the device has in flight: waiting for a translation (ATS) or for a page response. */
export interface DmaInFlight {
  step: number | null;
  mdev: string;
  rid: string;
  pasid: number;
  va: number;
  write: boolean;
  /** a devTLB invalidation of this (RID, PASID) arrived while the translation was outstanding */
  poisoned: boolean;
  /** already retried after a page response (one retry, then it faults) */
  retried: boolean;
}

/**
 * Parent drivers and their mdevs, and the device side: each physical parent's device TLB (ATS),
 * its outstanding page requests (PRI), and for non-IOMMU parents the pages the vendor driver pinned.
 */
export interface MdevParentState {
  policy?: PolicyValues;
  topology?: Topology;
  parents: Record<string, Topology['parents'][number]>;
  mdevs: Record<string, { parent: string; vm: string; iommuDevice: string | null; removed?: boolean }>;
  /** surprise-removed parents (by id) */
  absent: Record<string, true>;
  /** device TLB per RID: pasid -> page -> translation */
  devtlb: Record<string, Record<number, Record<number, { hpa: number; w: boolean }>>>;
  /** in-flight DMAs by the tag of the request they wait on */
  dmas: Record<string, DmaInFlight>;
  /** page requests awaiting a response: `${rid}:${pasid}:${prg}` -> the DMA tag waiting on it, if any */
  outstanding: Record<string, { mdev: string; dma: string | null }>;
  nextPrg: Record<string, number>;
  /** vendor driver pins of non-IOMMU mdevs: GPA page -> HPA page */
  pins: Record<string, Record<number, number>>;
  notifiers: Record<string, true>;
  /** pin_pages steps waiting for VFIO */
  pinWaits: Record<string, { step: number; mdev: string; pages: number[] }>;
}

export const prgKey = (rid: string, pasid: number, prg: number) => `${rid}:${pasid}:${prg}`;
