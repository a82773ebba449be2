import { typedEntries, type LogEntry } from '../../contracts/src/index.js';

const PREFIX = 'derived:';
/** A signal of this file's: a state several steps deep. */
export const isCacheState = (c: string) => c.startsWith(PREFIX);

/** A cached translation of a PASID whose entry points at a guest's tables, and its PTE's generation when filled. */
interface Cached { vm: string; table: number; pasid: number; gen: number }
interface Scope { seq: number; first: number; last: number }

/**
 * Coverage no single log entry carries: where the caches stand against the guest's tables. A branch
 * of the kernel is only reached from a state several steps deep (a translation cached, the PTE
 * rewritten under it, an invalidation that left it there); each of those states is a signal of its
 * own, so a program that reaches one goes into the corpus and its children go one step further.
 * Only translations through a nested PASID entry (the guest's first-level tables) count.
 */
export function cacheCoverageOf(entries: readonly LogEntry[]): Set<string> {
  const out = new Set<string>();
  /** (rid, pasid) -> the guest tables its PASID entry points at */
  const tables = new Map<string, { vm: string; table: number }>();
  /** the PTE generation of (vm, table, page), bumped by every write or clear, and when it last changed (log seq) */
  const gen = new Map<string, { n: number; seq: number }>();
  /** the last invalidation of (vm, pasid) the guest saw complete, and its pages */
  const done = new Map<string, Scope>();
  const devtlb = new Map<string, Map<number, Cached>>();
  const iotlb = new Map<string, Cached>();
  const pteKey = (c: { vm: string; table: number }, page: number) => `${c.vm}|${c.table}|${page}`;
  const stale = (c: Cached, page: number) => c.gen !== (gen.get(pteKey(c, page))?.n ?? 0);
  const cached = (rid: string, pasid: number, page: number): Cached | undefined => {
    const t = tables.get(`${rid}|${pasid}`);
    return t && { ...t, pasid, gen: gen.get(pteKey(t, page))?.n ?? 0 };
  };
  const covers = (d: Scope | undefined, c: Cached, page: number) => !!d && d.seq > (gen.get(pteKey(c, page))?.seq ?? 0) && page >= d.first && page <= d.last;
  /** a hit on a stale entry, and whether the guest was told an invalidation of it was done after the PTE changed */
  const hit = (what: string, c: Cached | undefined, page: number) => {
    if (!c || !stale(c, page)) return;
    out.add(`${PREFIX}${what} stale`);
    if (covers(done.get(`${c.vm}|${c.pasid}`), c, page)) out.add(`${PREFIX}${what} stale after an invalidation of it`);
  };
  for (const e of typedEntries(entries)) {
    if (e.kind !== 'event') continue;
    if (e.component === 'host-vtd') {
      switch (e.type) {
        case 'pasid_entry.set': {
          const p = e.payload;
          if (p.entry.p && p.entry.pgtt === 3 && p.entry.vm) tables.set(`${p.dev}|${p.pasid}`, { vm: p.entry.vm, table: Math.floor(p.entry.flptr / 4096) });
          else tables.delete(`${p.dev}|${p.pasid}`);
          break;
        }
        case 'pasid_entry.cleared':
          tables.delete(`${e.payload.dev}|${e.payload.pasid}`);
          break;
        case 'mem.pte_written':
        case 'mem.pte_cleared': {
          const p = e.payload;
          for (let i = 0; i < p.pages; i++) {
            const k = pteKey(p, p.page + i);
            if (gen.has(k)) out.add(`${PREFIX}${e.type} over a PTE`);
            if ([...devtlb.values()].some((m) => { const c = m.get(p.page + i); return c && pteKey(c, p.page + i) === k; })) out.add(`${PREFIX}${e.type} under a devTLB entry`);
            gen.set(k, { n: (gen.get(k)?.n ?? 0) + 1, seq: e.seq });
          }
          break;
        }
        case 'translation.done': {
          const p = e.payload;
          const key = `${p.did}|${p.pasid}|${p.page}`;
          if (p.source === 'iotlb') hit('translation.done source=iotlb', iotlb.get(key), p.page);
          else {
            const c = cached(p.rid, p.pasid, p.page);
            if (c) iotlb.set(key, c);
          }
          break;
        }
        default:
      }
    } else if (e.component === 'mdev-parent') {
      switch (e.type) {
        case 'devtlb.filled': {
          const p = e.payload;
          const c = cached(p.rid, p.pasid, p.page);
          const k = `${p.rid}|${p.pasid}`;
          if (!c) break;
          out.add(`${PREFIX}devtlb.filled through the guest tables`);
          (devtlb.get(k) ?? devtlb.set(k, new Map()).get(k)!).set(p.page, c);
          break;
        }
        case 'devtlb.invalidated': {
          const p = e.payload;
          const held = devtlb.get(`${p.rid}|${p.pasid}`);
          if (!held) break;
          for (const pg of p.pages) held.delete(pg);
          if (held.size) out.add(`${PREFIX}devtlb.invalidated left>0${[...held].some(([pg, c]) => stale(c, pg)) ? ' stale' : ''}`);
          break;
        }
        case 'dma.completed': {
          const p = e.payload;
          if (p.source === 'devtlb' && p.rid !== null) hit('dma.completed source=devtlb', devtlb.get(`${p.rid}|${p.pasid}`)?.get(p.page), p.page);
          break;
        }
        default:
      }
    } else if (e.component === 'guest-viommu') {
      if (e.type !== 'wait_descriptor.completed') continue;
      const p = e.payload;
      if (p.op !== 'inval' || p.status !== 'done' || typeof p.pasid !== 'number') continue;
      const sc = p.scope;
      const first = sc?.granularity === 'addr' ? Math.floor(sc.addr / 4096) : 0;
      const d = { seq: e.seq, first, last: sc?.granularity === 'addr' ? first + Math.max(1, sc.pages) - 1 : Infinity };
      done.set(`${p.vm}|${p.pasid}`, d);
      const left = [...devtlb.values()].flatMap((m) => [...m].filter(([pg, c]) => c.vm === p.vm && c.pasid === p.pasid && stale(c, pg)));
      if (left.length) out.add(`${PREFIX}invalidation done, a devTLB entry ${left.some(([pg, c]) => covers(d, c, pg)) ? 'it covers' : 'outside it'} stale`);
    }
  }
  return out;
}
