import type { DmaInFlight, MdevParentEvents, PolicyValues } from '../../../contracts/src/index.js';
import { eventsOf } from '../decider.js';
import type { Topology } from '../topology.js';

export type { DmaInFlight };

/**
 * What the device side waits for (its parked continuation, request-reply.ts): a DMA waiting for the
 * IOMMU's answer to its translation request or untranslated DMA, or a pin_pages step waiting for VFIO.
 */
export type MdevCall =
  | { kind: 'translate'; dma: DmaInFlight }
  | { kind: 'pin'; step: number; mdev: string; pages: number[] };

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
  /** injected faults: devTLB invalidations each parent still lets time out (device-fault.ts) */
  ite: Record<string, number>;
  /** device TLB per RID: pasid -> page -> translation */
  devtlb: Record<string, Record<number, Record<number, { hpa: number; w: boolean }>>>;
  /** parked continuations by the tag of the request they wait on (translations, pins) */
  calls: Record<string, MdevCall>;
  /** DMAs waiting for the page group response to their page request, by the DMA's tag (device state, not a call) */
  dmas: Record<string, DmaInFlight>;
  /** page requests awaiting a response: `${rid}:${pasid}:${prg}` -> the DMA tag waiting on it, if any */
  outstanding: Record<string, { mdev: string; dma: string | null }>;
  nextPrg: Record<string, number>;
  /** vendor driver pins of non-IOMMU mdevs: GPA page -> HPA page, and how often the driver pinned it (VFIO counts each) */
  pins: Record<string, Record<number, { hpa: number; refs: number }>>;
  notifiers: Record<string, true>;
}

/**
 * The pages `mdev` pinned in GPA pages [first, last), each once per pin it holds: vfio_unpin_pages drops
 * one reference per entry, so a driver that pinned a page twice names it twice to let it go.
 */
export function pinnedPages(s: MdevParentState, mdev: string, first = 0, last = Infinity): number[] {
  return Object.entries(s.pins[mdev] ?? {}).filter(([g]) => Number(g) >= first && Number(g) < last).flatMap(([g, pin]) => Array<number>(pin.refs).fill(Number(g)));
}

export const prgKey = (rid: string, pasid: number, prg: number) => `${rid}:${pasid}:${prg}`;

export const evt = eventsOf<MdevParentEvents<MdevCall>>();
