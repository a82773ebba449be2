import {
  ERRNO, GPASID_BIND_DATA_MINSZ, IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, IOMMU_CACHE_INV_TYPE_IOTLB,
  IOMMU_GPASID_BIND_VERSION_1, IOMMU_INV_ADDR_FLAGS_PASID, IOMMU_INV_GRANU_ADDR, IOMMU_INV_GRANU_PASID,
  IOMMU_INV_PASID_FLAGS_PASID, IOMMU_PASID_FORMAT_INTEL_VTD, IOMMU_SVA_GPASID_VAL, IOMMU_SVA_VTD_GPASID_EAFE,
  IOMMU_SVA_VTD_GPASID_SRE, PASID_REQUEST_MINSZ, PGTT_FL_ONLY, PGTT_PT, VFIO_IOMMU_FLAG_ALLOC_PASID,
  VFIO_IOMMU_FLAG_FREE_PASID, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, VFIO_IOMMU_NESTING_OP_CACHE_INVLD,
  VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, type Envelope, type GpasidBindData,
} from '../../../contracts/src/index.js';
import { cmd, drop, evt, put, type Decider, type Output, type Ret } from '../decider.js';
import { PASID_MAX, type RunOpen } from '../topology.js';

/** A guest PASID-table entry, the fields QEMU's vtd_pasid_cache_sync reads. */
export interface GuestPasidEntry {
  pgtt: number;
  flptr: number;
  addr_width: number;
  sre: boolean;
  eafe: boolean;
}

/** What the vIOMMU waits for: the reply to a request it sent, then the step completes. */
interface Pending {
  step: number;
  op: 'alloc' | 'free' | 'bind' | 'unbind' | 'inval';
  vm: string;
  pasid?: number;
  entry?: GuestPasidEntry;
}

export interface GuestViommuState {
  /** per VM: the guest's PASID table and QEMU's PASID cache (pasid_cache_entry, cache_filled) */
  vms: Record<string, { table: Record<number, GuestPasidEntry>; cache: Record<number, GuestPasidEntry> }>;
  pending: Record<string, Pending>;
}

const complete = (step: number, r: Ret): Output => cmd('orchestrator', 'step.completed', { step, outcome: r });

function bindData(pasid: number, e: GuestPasidEntry): GpasidBindData {
  // QEMU fills hpasid and gpasid with the same value: the guest PASID is the host PASID (identity)
  return {
    argsz: GPASID_BIND_DATA_MINSZ, version: IOMMU_GPASID_BIND_VERSION_1, format: IOMMU_PASID_FORMAT_INTEL_VTD,
    flags: IOMMU_SVA_GPASID_VAL, gpgd: e.flptr, hpasid: pasid, gpasid: pasid, addr_width: e.addr_width,
    vendor: { vtd: { flags: (e.sre ? IOMMU_SVA_VTD_GPASID_SRE : 0) | (e.eafe ? IOMMU_SVA_VTD_GPASID_EAFE : 0), pat: 0, emt: 0 } },
  };
}

function decideStep(s: GuestViommuState, input: Envelope): Output[] {
  const p = input.payload as Record<string, number | string | boolean> & { step: number; vm: string };
  const vm = s.vms[p.vm];
  if (!vm) return [complete(p.step, { ret: -ERRNO.ENODEV })];
  const wait = (op: Pending['op'], extra: Partial<Pending> = {}) =>
    evt('request.sent', { tag: input.id, pending: { step: p.step, op, vm: p.vm, ...extra } });
  switch (input.type) {
    case 'step.pasid_alloc': {
      // VCMD ALLOC_PASID: QEMU asks the host allocator through the container
      const req = { argsz: PASID_REQUEST_MINSZ, flags: VFIO_IOMMU_FLAG_ALLOC_PASID, range: { min: (p.min as number) ?? 1, max: (p.max as number) ?? PASID_MAX - 1 } };
      return [wait('alloc'), cmd('vfio-type1', 'VFIO_IOMMU_PASID_REQUEST', { vm: p.vm, req })];
    }
    case 'step.pasid_free': {
      const pasid = p.pasid as number;
      const req = { argsz: PASID_REQUEST_MINSZ, flags: VFIO_IOMMU_FLAG_FREE_PASID, range: { min: pasid, max: pasid } };
      return [wait('free', { pasid }), cmd('vfio-type1', 'VFIO_IOMMU_PASID_REQUEST', { vm: p.vm, req })];
    }
    case 'step.bind': {
      // guest driver: write the PASID entry, PASID-cache invalidation (PASID-selective), wait descriptor
      const pasid = p.pasid as number;
      const entry: GuestPasidEntry = { pgtt: p.pgtt as number, flptr: p.gpgd as number, addr_width: p.addr_width as number, sre: !!p.sre, eafe: !!p.eafe };
      const written = evt('pasid_entry.written', { vm: p.vm, pasid, entry });
      // vtd_pasid_cache_sync: PGTT other than FL or PT, or a zero FLPTR, is an error (no bind)
      if ((entry.pgtt !== PGTT_FL_ONLY && entry.pgtt !== PGTT_PT) || (entry.pgtt === PGTT_FL_ONLY && entry.flptr === 0)) {
        return [written, complete(p.step, { ret: -ERRNO.EINVAL })];
      }
      if (entry.pgtt === PGTT_PT) return [written, evt('pasid_cache.filled', { vm: p.vm, pasid, entry }), complete(p.step, { ret: 0 })];
      const data = bindData(pasid, entry);
      return [written, wait('bind', { pasid, entry }), cmd('vfio-type1', 'VFIO_IOMMU_NESTING_OP', { vm: p.vm, op: { argsz: 16, flags: VFIO_IOMMU_NESTING_OP_BIND_PGTBL, data } })];
    }
    case 'step.unbind': {
      const pasid = p.pasid as number;
      const cached = vm.cache[pasid];
      const cleared = evt('pasid_entry.cleared', { vm: p.vm, pasid });
      // cache entry gone from the table: UNBIND; nothing cached: nothing to tell the host
      if (!cached || cached.pgtt === PGTT_PT) return [cleared, evt('pasid_cache.evicted', { vm: p.vm, pasid }), complete(p.step, { ret: 0 })];
      const data = bindData(pasid, cached);
      return [cleared, wait('unbind', { pasid }), cmd('vfio-type1', 'VFIO_IOMMU_NESTING_OP', { vm: p.vm, op: { argsz: 16, flags: VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, data } })];
    }
    case 'step.iotlb_invalidate': {
      // trapped PIOTLB descriptor (type 6): G=2 all in PASID, G=3 page-selective in PASID
      const pasid = p.pasid as number;
      const info = p.granularity === 'addr'
        ? { argsz: 64, version: IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, cache: IOMMU_CACHE_INV_TYPE_IOTLB, granularity: IOMMU_INV_GRANU_ADDR,
            addr_info: { flags: IOMMU_INV_ADDR_FLAGS_PASID, pasid, addr: p.addr as number, granule_size: 4096, nb_granules: p.pages as number } }
        : { argsz: 64, version: IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, cache: IOMMU_CACHE_INV_TYPE_IOTLB, granularity: IOMMU_INV_GRANU_PASID,
            pasid_info: { flags: IOMMU_INV_PASID_FLAGS_PASID, pasid } };
      return [wait('inval', { pasid }), cmd('vfio-type1', 'VFIO_IOMMU_NESTING_OP', { vm: p.vm, op: { argsz: 16, flags: VFIO_IOMMU_NESTING_OP_CACHE_INVLD, data: info } })];
    }
    default:
      return [evt('ignored', { why: `guest-viommu has no handler for ${input.type}` })];
  }
}

function decideReply(s: GuestViommuState, input: Envelope): Output[] {
  const r = input.payload as Ret & { tag: string };
  const pend = s.pending[r.tag];
  if (!pend) return [evt('ignored', { why: `reply to unknown request ${r.tag}` })];
  const out: Output[] = [evt('reply.received', { tag: r.tag })];
  if (pend.op === 'alloc') {
    // VCRSP: RSLT(pasid) on success, SC(NO_AVAILABLE_PASID) on failure
    out.push(evt('vcmd.response', { vm: pend.vm, status: r.ret >= 0 ? 'VCRSP_RSLT' : 'SC_NO_AVAILABLE_PASID', pasid: r.ret >= 0 ? r.ret : null }));
    out.push(complete(pend.step, r.ret >= 0 ? { ret: 0, value: r.ret } : r));
    return out;
  }
  if (pend.op === 'bind' && r.ret === 0 && !r.oops) out.push(evt('pasid_cache.filled', { vm: pend.vm, pasid: pend.pasid, entry: pend.entry }));
  if (pend.op === 'unbind' && r.ret === 0 && !r.oops) out.push(evt('pasid_cache.evicted', { vm: pend.vm, pasid: pend.pasid }));
  // the wait descriptor's status write: the guest sees the batch as done
  out.push(evt('wait_descriptor.completed', { vm: pend.vm, op: pend.op, ret: r.ret }));
  out.push(complete(pend.step, r));
  return out;
}

export const guestViommuDecider: Decider<GuestViommuState> = {
  component: 'guest-viommu',
  initialState: () => ({ vms: {}, pending: {} }),

  decide(s, input): Output[] {
    if (input.type === 'run.open') {
      return [evt('viommu.realized', { vms: (input.payload as RunOpen).topology.vms.map((v) => v.id), scalable_mode: true, vccap_pas: true })];
    }
    if (input.type.startsWith('step.')) {
      // a request carries a tag (the id of the input that sent it); its reply echoes the tag
      return decideStep(s, input).map((o) => (o.kind === 'command' ? { ...o, payload: { ...o.payload, tag: input.id } } : o));
    }
    if (input.type.endsWith('.ret')) return decideReply(s, input);
    return [evt('ignored', { why: `guest-viommu has no handler for ${input.type}` })];
  },

  evolve(s, o): GuestViommuState {
    if (o.kind !== 'event') return s;
    const p = o.payload as Record<string, unknown> & { vm: string; pasid: number };
    const vm = s.vms[p.vm];
    switch (o.type) {
      case 'viommu.realized':
        return { ...s, vms: Object.fromEntries((p.vms as string[]).map((id) => [id, { table: {}, cache: {} }])) };
      case 'pasid_entry.written':
        return { ...s, vms: put(s.vms, p.vm, { ...vm!, table: put(vm!.table, p.pasid, p.entry as GuestPasidEntry) }) };
      case 'pasid_entry.cleared':
        return { ...s, vms: put(s.vms, p.vm, { ...vm!, table: drop(vm!.table, p.pasid) }) };
      case 'pasid_cache.filled':
        return { ...s, vms: put(s.vms, p.vm, { ...vm!, cache: put(vm!.cache, p.pasid, p.entry as GuestPasidEntry) }) };
      case 'pasid_cache.evicted':
        return { ...s, vms: put(s.vms, p.vm, { ...vm!, cache: drop(vm!.cache, p.pasid) }) };
      case 'request.sent':
        return { ...s, pending: put(s.pending, p.tag as string, p.pending as Pending) };
      case 'reply.received':
        return { ...s, pending: drop(s.pending, p.tag as string) };
      default:
        return s;
    }
  },
};
