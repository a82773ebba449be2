import { errnoName, STANDARD_ERRNOS } from '../../contracts/src/index.js';
import { sorted, type Checker, type EventEntry, type Violation } from './types.js';
import { judgeIoctls } from './uapi-errno-structs.js';

const UAPI_REPLIES = ['VFIO_IOMMU_PASID_REQUEST.ret', 'VFIO_IOMMU_NESTING_OP.ret'] as const;

/**
 * Every rejection the VMM sees carries a standard errno (no kernel-internal 524), and a request the
 * IOMMU layer refused as malformed or unsupported is not reported as success (DOMAIN.md §6; bugs #5, #14);
 * and each ioctl's structs, judged both ways by the independent reading of their rules (uapi-errno-structs.ts).
 */
export const uapiErrno: Checker = {
  name: 'uapi-errno',
  check(h) {
    const out: Violation[] = [];
    // refusals inside the kernel, by the guest operation (correlation) they belong to
    const refused = new Map<string, EventEntry<'host-vtd', 'sva_invalidate.unsupported' | 'sva_invalidate.rejected'>[]>();
    for (const type of ['sva_invalidate.unsupported', 'sva_invalidate.rejected'] as const) {
      for (const e of h.events('host-vtd', type)) {
        const kind = e.payload.kind;
        if (kind !== 'unsupported' && kind !== 'malformed') continue;
        const list = refused.get(e.correlationId) ?? [];
        list.push(e);
        refused.set(e.correlationId, list);
      }
    }
    for (const type of UAPI_REPLIES) {
      // VFIO's replies to the VMM's ioctls
      for (const e of h.commands('guest-viommu', type)) {
        if (e.component !== 'vfio-type1') continue;
        const p = e.payload;
        if (p.oops) continue;
        const name = p.ret < 0 ? errnoName(p.ret) : undefined;
        if (p.ret < 0 && (!name || !STANDARD_ERRNOS.has(name))) {
          out.push({ invariant: 'uapi-errno', message: `${type.replace('.ret', '')} returned ${p.ret}${name ? ` (-${name})` : ''} to userspace: not a standard errno`, events: h.chain(e) });
        }
        const why = refused.get(e.correlationId);
        if (p.ret >= 0 && why && type === 'VFIO_IOMMU_NESTING_OP.ret') {
          const what = why.map((x) => (x.type === 'sva_invalidate.unsupported' ? (x.payload.cache ? `${x.payload.cache} x ${x.payload.granularity}` : undefined) : x.payload.why));
          out.push({ invariant: 'uapi-errno', message: `CACHE_INVLD reported success although the IOMMU refused it (${[...new Set(what)].join('; ')})`, events: sorted([...why.map((x) => x.seq), e.seq]) });
        }
      }
    }
    // one ioctl, one message: where the rules judged the reply too, theirs says more (which rule, which errno)
    const judged = judgeIoctls(h);
    const replies = new Set(judged.map((v) => Math.max(...v.events)));
    return [...out.filter((v) => !replies.has(Math.max(...v.events))), ...judged];
  },
};
