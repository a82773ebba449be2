import { errnoName, STANDARD_ERRNOS, type LogEntry } from '../../contracts/src/index.js';
import { payload, sorted, type Checker, type Violation } from './types.js';

const UAPI_REPLIES = ['VFIO_IOMMU_PASID_REQUEST.ret', 'VFIO_IOMMU_NESTING_OP.ret'];

/**
 * Every rejection the VMM sees carries a standard errno (no kernel-internal 524), and a request the
 * IOMMU layer refused as malformed or unsupported is not reported as success (DOMAIN.md §6; bugs #5, #14).
 */
export const uapiErrno: Checker = {
  name: 'uapi-errno',
  check(h) {
    const out: Violation[] = [];
    // refusals inside the kernel, by the guest operation (correlation) they belong to
    const refused = new Map<string, LogEntry[]>();
    for (const type of ['sva_invalidate.unsupported', 'sva_invalidate.rejected']) {
      for (const e of h.events('host-vtd', type)) {
        const kind = payload<{ kind?: string }>(e).kind;
        if (kind !== 'unsupported' && kind !== 'malformed') continue;
        const list = refused.get(e.correlationId) ?? [];
        list.push(e);
        refused.set(e.correlationId, list);
      }
    }
    for (const type of UAPI_REPLIES) {
      for (const e of h.commands('vfio-type1', type)) {
        if (e.to !== 'guest-viommu') continue;
        const p = payload<{ ret: number; oops?: string }>(e);
        if (p.oops) continue;
        const name = p.ret < 0 ? errnoName(p.ret) : undefined;
        if (p.ret < 0 && (!name || !STANDARD_ERRNOS.has(name))) {
          out.push({ invariant: 'uapi-errno', message: `${type.replace('.ret', '')} returned ${p.ret}${name ? ` (-${name})` : ''} to userspace: not a standard errno`, events: h.chain(e) });
        }
        const why = refused.get(e.correlationId);
        if (p.ret >= 0 && why && type === 'VFIO_IOMMU_NESTING_OP.ret') {
          const what = why.map((x) => { const q = payload<{ cache?: string; granularity?: string; why?: string }>(x); return q.cache ? `${q.cache} x ${q.granularity}` : q.why; });
          out.push({ invariant: 'uapi-errno', message: `CACHE_INVLD reported success although the IOMMU refused it (${[...new Set(what)].join('; ')})`, events: sorted([...why.map((x) => x.seq), e.seq]) });
        }
      }
    }
    return out;
  },
};
