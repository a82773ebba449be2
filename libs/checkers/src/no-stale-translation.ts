import type { LogEntry } from '../../contracts/src/index.js';
import { LostIommuDevices, lostWhileBound } from './lost-iommu.js';
import { unsupportedInvalidations } from './unsupported-invalidations.js';
import { sorted, type Checker, type Violation } from './types.js';

interface Entry { p: boolean; vm?: string; table: number; pgtt: number; seq: number }
/** `iotlb`/`devtlb`: which caches the invalidation asked for (IOTLB implies the device TLB: the driver falls through with ATS) */
interface Done { seq: number; all: boolean; first: number; last: number; iotlb: boolean; devtlb: boolean; unbind: boolean; unsupported?: string }

/**
 * After an invalidation or unbind completes (the guest's wait descriptor status write with success),
 * no cache (IOTLB, PASID cache, device TLB) answers with the translation it replaced (DOMAIN.md §6;
 * bugs #3, #5, #9). The truth is folded from the log: PASID entries and the guest's PTE writes.
 */
export const noStaleTranslation: Checker = {
  name: 'no-stale-translation',
  check(h) {
    const out: Violation[] = [];
    const vms = new Map<string, { base: number; ram: number }>();
    const entries = new Map<string, Entry>();
    const lastVm = new Map<string, { vm: string; table: number }>();
    const pte = new Map<string, { gpa: number; seq: number }>();
    const pteChanged = new Map<string, number>();
    const completions = new Map<string, Done[]>();
    // invalidations the IOMMU refused as unsupported, by the guest operation they belong to: bug #5
    // reports them as success, and the guest believes the flush it never got
    const unsupported = unsupportedInvalidations(h);
    // an mdev that lost its IOMMU device: the guest's unbind of its binding never reaches the host
    const lostIommu = new LostIommuDevices();
    // when each device TLB entry was last filled (log seq)
    const filled = new Map<string, number>();
    const truth = (rid: string, pasid: number, page: number): number | 'fault' => {
      const e = entries.get(`${rid}|${pasid}`);
      if (!e || !e.p || !e.vm) return 'fault';
      const ram = vms.get(e.vm);
      if (!ram) return 'fault';
      const gpa = e.pgtt === 3 ? pte.get(`${e.vm}|${e.table}|${page}`)?.gpa : page;
      return gpa === undefined || gpa >= ram.ram ? 'fault' : ram.base + gpa;
    };
    const observe = (obs: LogEntry, rid: string, pasid: number, page: number, hpa: number, source: 'the IOTLB' | 'the device TLB') => {
      const t = truth(rid, pasid, page);
      if (t === hpa) return;
      const key = `${rid}|${pasid}`;
      const binder = lastVm.get(key);
      if (!binder) return;
      const changed = Math.max(entries.get(key)?.seq ?? 0, pteChanged.get(`${binder.vm}|${binder.table}|${page}`) ?? 0);
      const list = completions.get(`${binder.vm}|${pasid}`) ?? [];
      for (let i = list.length - 1; i >= 0 && list[i]!.seq > changed; i--) {
        const d = list[i]!;
        if (!d.all && (page < d.first || page > d.last)) continue;
        // an invalidation of the device TLB alone leaves the IOTLB as it was: the guest asked for no more,
        // and a device TLB entry filled after it came from that IOTLB (ATS), so it is judged as the IOTLB is
        const refilled = source === 'the device TLB' && (filled.get(`${rid}|${pasid}|${page}`) ?? 0) > d.seq;
        if (source === 'the IOTLB' || refilled ? !d.iotlb : !d.devtlb) continue;
        const lost = d.unbind ? lostIommu.lostVia(rid, pasid) : undefined;
        const why = d.unsupported
          ? ` (the invalidation was ${d.unsupported}, unsupported: the IOMMU flushed nothing and reported success, bug #5)`
          : lost ? ` (the unbind never reached the host: ${lostWhileBound(lost)}, so VFIO could not name it)` : '';
        out.push({
          invariant: 'no-stale-translation',
          message: `${source} answered (${rid}, PASID ${pasid}, page 0x${page.toString(16)}) with HPA page 0x${hpa.toString(16)} after VM ${binder.vm}'s ${d.unbind ? 'unbind' : 'invalidation'} completed; the tables say ${t === 'fault' ? 'no translation' : `0x${t.toString(16)}`}${why}`,
          events: sorted([obs.seq, changed || undefined, d.seq]),
        });
        return;
      }
    };
    for (const e of h.entries) {
      if (e.kind !== 'event') continue;
      lostIommu.observe(e);
      if (e.component === 'host-vtd') {
        switch (e.type) {
          case 'host.configured':
            for (const [vm, r] of Object.entries(e.payload.vms)) vms.set(vm, r);
            break;
          case 'pasid_entry.set': {
            const { dev, pasid, entry: en } = e.payload;
            const key = `${dev}|${pasid}`;
            entries.set(key, { p: en.p, vm: en.vm, table: Math.floor(en.flptr / 4096), pgtt: en.pgtt, seq: e.seq });
            if (en.vm) lastVm.set(key, { vm: en.vm, table: Math.floor(en.flptr / 4096) });
            break;
          }
          case 'pasid_entry.cleared':
            entries.set(`${e.payload.dev}|${e.payload.pasid}`, { p: false, table: 0, pgtt: 0, seq: e.seq });
            break;
          case 'mem.pte_written':
          case 'mem.pte_cleared': {
            const p = e.payload;
            for (let i = 0; i < p.pages; i++) {
              const k = `${p.vm}|${p.table}|${p.page + i}`;
              if (e.type === 'mem.pte_written') pte.set(k, { gpa: e.payload.gpa + i, seq: e.seq });
              else pte.delete(k);
              pteChanged.set(k, e.seq);
            }
            break;
          }
          case 'translation.done': {
            const p = e.payload;
            if (p.source === 'iotlb') observe(e, p.rid, p.pasid, p.page, p.hpa, 'the IOTLB');
            break;
          }
        }
      } else if (e.component === 'mdev-parent' && e.type === 'devtlb.filled') {
        filled.set(`${e.payload.rid}|${e.payload.pasid}|${e.payload.page}`, e.seq);
      } else if (e.component === 'mdev-parent' && e.type === 'dma.completed' && e.payload.source === 'devtlb') {
        const p = e.payload;
        // a devTLB hit is an ATS translation: the device has a RID
        if (p.rid !== null) observe(e, p.rid, p.pasid, p.page, p.hpa, 'the device TLB');
      } else if (e.component === 'guest-viommu' && e.type === 'wait_descriptor.completed') {
        const p = e.payload;
        if (p.status !== 'done' || (p.op !== 'inval' && p.op !== 'unbind') || typeof p.pasid !== 'number') continue;
        const scope = p.scope;
        const all = p.op === 'unbind' || !scope || scope.granularity !== 'addr';
        const first = scope ? Math.floor(scope.addr / 4096) : 0;
        // an unbind, or a scope that does not say, covers every cache
        const cache = p.op === 'unbind' || scope?.cache === undefined ? 7 : Number.isInteger(scope.cache) ? scope.cache : 0;
        const iotlb = (cache & 1) !== 0;
        const d: Done = { seq: e.seq, all, first, last: first + Math.max(1, scope?.pages ?? 1) - 1, iotlb, devtlb: iotlb || (cache & 2) !== 0, unbind: p.op === 'unbind', unsupported: unsupported.get(e.correlationId) };
        const k = `${p.vm}|${p.pasid}`;
        (completions.get(k) ?? completions.set(k, []).get(k)!).push(d);
      }
    }
    return out;
  },
};
