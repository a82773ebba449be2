import type { LogEntry } from '../../contracts/src/index.js';

/** A cached translation: whose page it is and the generation of that page's PTE when it was filled. */
interface Cached { vm: string; gen: number }

/**
 * Coverage no single log entry carries: where the caches stand against the guest's tables. A branch
 * of the kernel is only reached from a state several steps deep (a translation cached, the PTE
 * rewritten under it, an invalidation that left it there); each of those states is a signal of its
 * own, so a program that reaches one goes into the corpus and its children go one step further.
 * Pages are keyed by (VM, page number): the table does not matter for a signal.
 */
export function cacheCoverageOf(entries: readonly LogEntry[]): Set<string> {
  const out = new Set<string>();
  /** the PTE generation of (vm, page): bumped by every write or clear */
  const gen = new Map<string, number>();
  /** when (vm, page)'s PTE last changed and when the VM's last invalidation completed (log seq) */
  const changedAt = new Map<string, number>();
  const invalAt = new Map<string, { seq: number; first: number; last: number }>();
  const vmOf = new Map<string, string>();
  const devtlb = new Map<string, Map<number, Cached>>();
  const iotlb = new Map<string, Cached>();
  const genOf = (vm: string, page: number) => gen.get(`${vm}|${page}`) ?? 0;
  const stale = (c: Cached, page: number) => c.gen !== genOf(c.vm, page);
  /** a hit on a stale entry, and whether the VM was told its invalidation was done after the PTE changed */
  const hit = (what: string, c: Cached | undefined, page: number) => {
    if (!c || !stale(c, page)) return;
    out.add(`${what} stale`);
    const d = invalAt.get(c.vm);
    if (d && d.seq > (changedAt.get(`${c.vm}|${page}`) ?? 0) && page >= d.first && page <= d.last) out.add(`${what} stale after an invalidation of it`);
  };
  for (const e of entries) {
    if (e.kind !== 'event') continue;
    const p = (e.payload ?? {}) as Record<string, any>;
    switch (`${e.component}:${e.type}`) {
      case 'host-vtd:mem.pte_written':
      case 'host-vtd:mem.pte_cleared':
        for (let i = 0; i < p.pages; i++) {
          const k = `${p.vm}|${p.page + i}`;
          if (gen.has(k)) out.add(`derived:${e.type} over a PTE`);
          if ([...devtlb.values()].some((m) => m.get(p.page + i)?.vm === p.vm)) out.add(`derived:${e.type} under a devTLB entry`);
          gen.set(k, genOf(p.vm, p.page + i) + 1);
          changedAt.set(k, e.seq);
        }
        break;
      case 'host-vtd:iotlb.filled':
        iotlb.set(`${p.did}|${p.pasid}|${p.page}`, { vm: p.vm, gen: genOf(p.vm, p.page) });
        break;
      case 'host-vtd:translation.done':
        vmOf.set(`${p.rid}|${p.pasid}`, p.vm);
        if (p.source === 'iotlb') hit('derived:translation.done source=iotlb', iotlb.get(`${p.did}|${p.pasid}|${p.page}`), p.page);
        break;
      case 'mdev-parent:devtlb.filled': {
        const vm = vmOf.get(`${p.rid}|${p.pasid}`);
        const k = `${p.rid}|${p.pasid}`;
        if (vm) (devtlb.get(k) ?? devtlb.set(k, new Map()).get(k)!).set(p.page, { vm, gen: genOf(vm, p.page) });
        break;
      }
      case 'mdev-parent:devtlb.invalidated': {
        const held = devtlb.get(`${p.rid}|${p.pasid}`);
        if (!held) break;
        for (const pg of p.pages as number[]) held.delete(pg);
        if (held.size) out.add(`derived:devtlb.invalidated left>0${[...held].some(([pg, c]) => stale(c, pg)) ? ' stale' : ''}`);
        break;
      }
      case 'mdev-parent:dma.completed':
        if (p.source === 'devtlb') hit('derived:dma.completed source=devtlb', devtlb.get(`${p.rid}|${p.pasid}`)?.get(p.page), p.page);
        break;
      case 'guest-viommu:wait_descriptor.completed': {
        if (p.op !== 'inval' || p.status !== 'done') break;
        const sc = p.scope as { granularity: string; addr: number; pages: number } | undefined;
        const d = sc?.granularity === 'addr' ? { seq: e.seq, first: Math.floor(sc.addr / 4096), last: Math.floor(sc.addr / 4096) + Math.max(1, sc.pages) - 1 } : { seq: e.seq, first: 0, last: Infinity };
        invalAt.set(p.vm, d);
        const left = [...devtlb.values()].flatMap((m) => [...m].filter(([pg, c]) => c.vm === p.vm && stale(c, pg)).map(([pg]) => pg));
        if (left.length) out.add(`derived:invalidation done, a devTLB entry ${left.some((pg) => pg >= d.first && pg <= d.last) ? 'it covers' : 'outside it'} stale`);
        break;
      }
      default:
    }
  }
  return out;
}
