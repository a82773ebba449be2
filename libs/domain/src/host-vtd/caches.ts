import { evt, type Output } from '../decider.js';
import { iotlbKey, type HostVtdState } from './state.js';

/**
 * The host's caches, as the iommufd selftest mock keeps its iotlb[]: entries stay until an
 * invalidation of exactly their scope removes them, and each invalidation says how many it processed.
 */

/** PIOTLB invalidation (EIOTLB, type 6): NONG_PASID (all pages of the PASID) or PSI_PASID [first, first+n). */
export function flushPiotlb(s: HostVtdState, did: number, pasid: number, range: { first: number; npages: number } | 'all', why: string): Output {
  const cached = s.iotlb[iotlbKey(did, pasid)] ?? {};
  const pages = Object.keys(cached).map(Number);
  const hit = range === 'all' ? pages : pages.filter((p) => p >= range.first && p < range.first + range.npages);
  return evt('qi.piotlb', {
    did, pasid, granu: range === 'all' ? 'NONG_PASID' : 'PSI_PASID',
    addr: range === 'all' ? 0 : range.first * 4096, npages: range === 'all' ? -1 : range.npages, pages: hit, processed: hit.length, why,
  });
}

/** PASID-cache invalidation (PC, type 7), PASID-selective: every device's cached entry with this DID and PASID. */
export function flushPasidCache(s: HostVtdState, did: number, pasid: number, why: string): Output {
  const cached = s.pasidCache[pasid] ?? {};
  const devs = Object.keys(cached).filter((rid) => cached[rid]!.did === did);
  return evt('qi.pasid_cache', { did, pasid, granu: 'PASID_SEL', devs, processed: devs.length, why });
}

export function evolveCaches(s: HostVtdState, type: string, p: Record<string, unknown>): HostVtdState | null {
  switch (type) {
    case 'iotlb.filled': {
      const k = iotlbKey(p.did as number, p.pasid as number);
      const e = { hpa: p.hpa as number, w: p.w as boolean, gpa: p.gpa as number, vm: p.vm as string };
      return { ...s, iotlb: { ...s.iotlb, [k]: { ...(s.iotlb[k] ?? {}), [p.page as number]: e } } };
    }
    case 'qi.piotlb': {
      const k = iotlbKey(p.did as number, p.pasid as number);
      if (!s.iotlb[k]) return s;
      if (p.granu === 'NONG_PASID') {
        const { [k]: _gone, ...rest } = s.iotlb;
        return { ...s, iotlb: rest };
      }
      const left = { ...s.iotlb[k] };
      for (const pg of p.pages as number[]) delete left[pg];
      return { ...s, iotlb: { ...s.iotlb, [k]: left } };
    }
    case 'pasid_cache.filled': {
      const pasid = p.pasid as number;
      return { ...s, pasidCache: { ...s.pasidCache, [pasid]: { ...(s.pasidCache[pasid] ?? {}), [p.rid as string]: p.entry as never } } };
    }
    case 'qi.pasid_cache': {
      const pasid = p.pasid as number;
      const left = { ...(s.pasidCache[pasid] ?? {}) };
      for (const rid of p.devs as string[]) delete left[rid];
      return { ...s, pasidCache: { ...s.pasidCache, [pasid]: left } };
    }
    default:
      return null;
  }
}
