import { cmd } from '../decider.js';
import type { DevtlbDesc } from '../../../contracts/src/index.js';
import { evt, iotlbKey, type HostEvent, type HostOut, type HostVtdState } from './state.js';

/**
 * The host's caches, as the iommufd selftest mock keeps its iotlb[]: entries stay until an
 * invalidation of exactly their scope removes them, and each invalidation says how many it processed.
 */

/** PIOTLB invalidation (EIOTLB, type 6): NONG_PASID (all pages of the PASID) or PSI_PASID [first, first+n). */
export function flushPiotlb(s: HostVtdState, did: number, pasid: number, range: { first: number; npages: number } | 'all', why: string): HostEvent {
  const cached = s.iotlb[iotlbKey(did, pasid)] ?? {};
  const pages = Object.keys(cached).map(Number);
  const hit = range === 'all' ? pages : pages.filter((p) => p >= range.first && p < range.first + range.npages);
  return evt('qi.piotlb', {
    did, pasid, granu: range === 'all' ? 'NONG_PASID' : 'PSI_PASID',
    addr: range === 'all' ? 0 : range.first * 4096, npages: range === 'all' ? -1 : range.npages, pages: hit, processed: hit.length, why,
  });
}

/** PASID-cache invalidation (PC, type 7), PASID-selective: every device's cached entry with this DID and PASID. */
export function flushPasidCache(s: HostVtdState, did: number, pasid: number, why: string): HostEvent {
  const cached = s.pasidCache[pasid] ?? {};
  const devs = Object.keys(cached).filter((rid) => cached[rid]!.did === did);
  return evt('qi.pasid_cache', { did, pasid, granu: 'PASID_SEL', devs, processed: devs.length, why });
}

/**
 * A devTLB invalidation descriptor (DEIOTLB, type 8, qi_flush_dev_iotlb_pasid) sent to the device
 * through QI, tagged `tag` (the id of the input handled now); the wait descriptor that follows completes
 * only when the device answers (qi.ts), so the caller parks, keeping `desc` to resubmit it after an ITE.
 * Returns the outputs, whether a completion is awaited, and the descriptor.
 */
export function devtlbFlush(s: HostVtdState, tag: string, sid: string, pasid: number, range: { first: number; npages: number } | 'all', why: string): { outs: HostOut[]; awaited: boolean; desc: DevtlbDesc } {
  const desc = { sid, pasid, addr: range === 'all' ? 0 : range.first * 4096, npages: range === 'all' ? -1 : range.npages, size: range === 'all' ? 'S=1 (all)' : `${range.npages} pages`, why };
  // 80a9b50c0b9e, 4fc82cd907ac: never wait on an absent device's ATS (bug #16)
  if (s.absent[sid] && s.policy!['vtd.devtlb_skip_absent']) return { outs: [evt('qi.devtlb_skipped', { ...desc, because: 'pci_device_is_present() is false' })], awaited: false, desc };
  return { outs: submitDevtlb(tag, desc), awaited: true, desc };
}

/** The descriptor queued (again, after an ITE: qi_submit_sync's restart) and sent to the device. */
export function submitDevtlb(tag: string, desc: DevtlbDesc): HostOut[] {
  const all = desc.npages === -1;
  return [evt('qi.devtlb', desc), cmd('mdev-parent', 'devtlb_invalidate', { rid: desc.sid, pasid: desc.pasid, first: all ? 0 : desc.addr / 4096, npages: all ? null : desc.npages, tag })];
}

/** The caches after one of their events; null for any other event. */
export function evolveCaches(s: HostVtdState, e: HostEvent): HostVtdState | null {
  switch (e.type) {
    case 'iotlb.filled': {
      const { did, pasid, page, hpa, w, gpa, vm } = e.payload;
      const k = iotlbKey(did, pasid);
      return { ...s, iotlb: { ...s.iotlb, [k]: { ...(s.iotlb[k] ?? {}), [page]: { hpa, w, gpa, vm } } } };
    }
    case 'qi.piotlb': {
      const p = e.payload;
      const k = iotlbKey(p.did, p.pasid);
      if (!s.iotlb[k]) return s;
      if (p.granu === 'NONG_PASID') {
        const { [k]: _gone, ...rest } = s.iotlb;
        return { ...s, iotlb: rest };
      }
      const left = { ...s.iotlb[k] };
      for (const pg of p.pages) delete left[pg];
      return { ...s, iotlb: { ...s.iotlb, [k]: left } };
    }
    case 'pasid_cache.filled': {
      const { pasid, rid, entry } = e.payload;
      return { ...s, pasidCache: { ...s.pasidCache, [pasid]: { ...(s.pasidCache[pasid] ?? {}), [rid]: entry } } };
    }
    case 'qi.pasid_cache': {
      const { pasid, devs } = e.payload;
      const left = { ...(s.pasidCache[pasid] ?? {}) };
      for (const rid of devs) delete left[rid];
      return { ...s, pasidCache: { ...s.pasidCache, [pasid]: left } };
    }
    default:
      return null;
  }
}
