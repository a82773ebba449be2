import {
  ERRNO, IOMMU_INV_GRANU_ADDR, IOMMU_PAGE_RESP_INVALID, IOMMU_PAGE_RESP_PASID_VALID, IOMMU_PAGE_RESP_SUCCESS, PASID_REQUEST_MINSZ,
  PGTT_FL_ONLY, PGTT_PT, VFIO_IOMMU_FLAG_ALLOC_PASID, VFIO_IOMMU_FLAG_FREE_PASID, VFIO_IOMMU_NESTING_OP_BIND_PGTBL,
  VFIO_IOMMU_NESTING_OP_CACHE_INVLD, VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, type Envelope,
} from '../../../contracts/src/index.js';
import { cmd, drop, evt, put, type Decider, type Output, type Ret } from '../decider.js';
import { pageOf, PASID_MAX, type RunOpen } from '../topology.js';
import { bindData, piotlbInfo, rawBind, rawInfo, type GuestPasidEntry } from './uapi.js';

export type { GuestPasidEntry };

/** What the vIOMMU waits for: the reply to a request it sent, then the step completes. */
interface Pending {
  step: number;
  op: 'alloc' | 'free' | 'bind' | 'unbind' | 'inval' | 'ioctl';
  vm: string;
  pasid?: number;
  entry?: GuestPasidEntry;
  /** VCMD ALLOC repeated: how many are still to allocate, and the range */
  left?: number;
  range?: { min: number; max: number };
  /** the scope of an invalidation, for the wait descriptor's status write */
  scope?: { granularity: string; addr: number; pages: number };
}

export interface GuestViommuState {
  /** per VM: the guest's PASID table and QEMU's PASID cache (pasid_cache_entry, cache_filled) */
  vms: Record<string, { table: Record<number, GuestPasidEntry>; cache: Record<number, GuestPasidEntry>; ram: number; faults: 'respond' | 'ignore' }>;
  pending: Record<string, Pending>;
}

const complete = (step: number, r: Ret): Output => cmd('orchestrator', 'step.completed', { step, outcome: r });
const nestingOp = (vm: string, flags: number, data: unknown, tag: string, argsz = 16) => cmd('vfio-type1', 'VFIO_IOMMU_NESTING_OP', { vm, op: { argsz, flags, data }, tag });
const pasidRequest = (vm: string, req: unknown, tag: string) => cmd('vfio-type1', 'VFIO_IOMMU_PASID_REQUEST', { vm, req, tag });

function decideStep(s: GuestViommuState, input: Envelope): Output[] {
  const p = input.payload as Record<string, number | string | boolean> & { step: number; vm: string };
  const vm = s.vms[p.vm];
  if (!vm) return [complete(p.step, { ret: -ERRNO.ENODEV })];
  const tag = input.id;
  const wait = (op: Pending['op'], extra: Partial<Pending> = {}) => evt('request.sent', { tag, pending: { step: p.step, op, vm: p.vm, ...extra } });
  switch (input.type) {
    case 'step.pasid_alloc': {
      // VCMD ALLOC_PASID: QEMU asks the host allocator through the container
      const range = { min: (p.min as number) ?? 1, max: (p.max as number) ?? PASID_MAX - 1 };
      return [wait('alloc', { left: ((p.count as number) ?? 1) - 1, range }), pasidRequest(p.vm, { argsz: PASID_REQUEST_MINSZ, flags: VFIO_IOMMU_FLAG_ALLOC_PASID, range }, tag)];
    }
    case 'step.pasid_free': {
      const pasid = p.pasid as number;
      return [wait('free', { pasid }), pasidRequest(p.vm, { argsz: PASID_REQUEST_MINSZ, flags: VFIO_IOMMU_FLAG_FREE_PASID, range: { min: pasid, max: pasid } }, tag)];
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
      return [written, wait('bind', { pasid, entry }), nestingOp(p.vm, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, bindData(pasid, entry), tag)];
    }
    case 'step.unbind': {
      const pasid = p.pasid as number;
      const cached = vm.cache[pasid];
      const cleared = evt('pasid_entry.cleared', { vm: p.vm, pasid });
      // cache entry gone from the table: UNBIND; nothing cached: nothing to tell the host
      if (!cached || cached.pgtt === PGTT_PT) return [cleared, evt('pasid_cache.evicted', { vm: p.vm, pasid }), complete(p.step, { ret: 0 })];
      return [cleared, wait('unbind', { pasid }), nestingOp(p.vm, VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, bindData(pasid, cached), tag)];
    }
    case 'step.iotlb_invalidate': {
      const pasid = p.pasid as number;
      const scope = { granularity: p.granularity as string, addr: p.addr as number, pages: p.pages as number };
      return [wait('inval', { pasid, scope }), nestingOp(p.vm, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, piotlbInfo(pasid, scope.granularity, scope.addr, scope.pages), tag)];
    }
    case 'step.ioctl_pasid_request':
      return [wait('ioctl'), pasidRequest(p.vm, { argsz: p.argsz, flags: p.flags, range: { min: p.min, max: p.max } }, tag)];
    case 'step.ioctl_bind':
    case 'step.ioctl_unbind': {
      const flags = input.type === 'step.ioctl_bind' ? VFIO_IOMMU_NESTING_OP_BIND_PGTBL : VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL;
      return [wait('ioctl', { pasid: p.hpasid as number }), nestingOp(p.vm, flags, rawBind(p), tag, p.op_argsz as number)];
    }
    case 'step.ioctl_invalidate': {
      const scope = p.granularity === IOMMU_INV_GRANU_ADDR
        ? { granularity: 'addr', addr: p.addr as number, pages: Math.max(1, Math.ceil(((p.granule_size as number) * (p.nb_granules as number)) / 4096)) }
        : { granularity: p.granularity === 1 ? 'pasid' : 'other', addr: 0, pages: 0 };
      return [wait('ioctl', { pasid: p.pasid as number, scope }), nestingOp(p.vm, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, rawInfo(p), tag, p.op_argsz as number)];
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
    if (r.ret >= 0 && pend.left) {
      out.push(evt('request.sent', { tag: input.id, pending: { ...pend, left: pend.left - 1 } }));
      out.push(pasidRequest(pend.vm, { argsz: PASID_REQUEST_MINSZ, flags: VFIO_IOMMU_FLAG_ALLOC_PASID, range: pend.range }, input.id));
      return out;
    }
    out.push(complete(pend.step, r.ret >= 0 ? { ret: 0, value: r.ret } : { ret: r.ret }));
    return out;
  }
  if (pend.op === 'ioctl') {
    out.push(evt('ioctl.returned', { vm: pend.vm, ret: r.ret }));
    if (pend.scope) out.push(waitDone(pend, r));
    out.push(complete(pend.step, r.oops ? r : r.ret > 0 ? { ret: 0, value: r.ret } : { ret: r.ret, ...(r.detail ? { detail: r.detail } : {}) }));
    return out;
  }
  if (pend.op === 'bind' && r.ret === 0 && !r.oops) out.push(evt('pasid_cache.filled', { vm: pend.vm, pasid: pend.pasid, entry: pend.entry }));
  if (pend.op === 'unbind' && r.ret === 0 && !r.oops) out.push(evt('pasid_cache.evicted', { vm: pend.vm, pasid: pend.pasid }));
  if (pend.op !== 'free') out.push(waitDone(pend, r));
  out.push(complete(pend.step, r.oops ? r : { ret: r.ret, ...(r.detail ? { detail: r.detail } : {}) }));
  return out;
}

/** The wait descriptor's status write: the guest sees the batch as done (or QEMU reports the failure). */
function waitDone(pend: Pending, r: Ret): Output {
  return evt('wait_descriptor.completed', {
    vm: pend.vm, op: pend.op === 'ioctl' ? 'inval' : pend.op, pasid: pend.pasid ?? null, ret: r.ret, status: r.ret === 0 && !r.oops ? 'done' : 'error',
    ...(pend.scope ? { scope: pend.scope } : {}),
  });
}

/** A page request the host reported (iommu_report_device_fault): the guest maps the page and responds. */
function reportedFault(s: GuestViommuState, input: Envelope): Output[] {
  const f = input.payload as { vm: string; rid: string; pasid: number; addr: number; prg: number; write: boolean; lpig: boolean; pdp: boolean };
  const vm = s.vms[f.vm];
  if (!vm) return [evt('ignored', { why: `fault for unknown VM ${f.vm}` })];
  if (vm.faults === 'ignore') return [evt('guest_fault.pending', { ...f })];
  const entry = vm.cache[f.pasid];
  const respond = f.lpig || f.pdp;
  const msg = (code: number) => ({ argsz: 32, version: 1, flags: IOMMU_PAGE_RESP_PASID_VALID, pasid: f.pasid, grpid: f.prg, code });
  if (!entry || entry.pgtt !== PGTT_FL_ONLY) {
    return [evt('guest_fault.invalid', { ...f, why: 'no first-level table for the PASID' }), ...(respond ? [cmd('host-vtd', 'iommu_page_response', { vm: f.vm, rid: f.rid, msg: msg(IOMMU_PAGE_RESP_INVALID), tag: input.id })] : [])];
  }
  const half = Math.floor(vm.ram / 2);
  const gpa = (pageOf(f.addr) % half) + half;
  return [
    evt('guest_fault.handled', { ...f, gpa }),
    cmd('host-vtd', 'mem.write_pte', { vm: f.vm, gpgd: entry.flptr, va: f.addr, gpa: gpa * 4096, write: true }),
    ...(respond ? [cmd('host-vtd', 'iommu_page_response', { vm: f.vm, rid: f.rid, msg: msg(IOMMU_PAGE_RESP_SUCCESS), tag: input.id })] : []),
  ];
}

export const guestViommuDecider: Decider<GuestViommuState> = {
  component: 'guest-viommu',
  initialState: () => ({ vms: {}, pending: {} }),

  decide(s, input): Output[] {
    if (input.type === 'run.open') {
      const vms = (input.payload as RunOpen).topology.vms;
      return [evt('viommu.realized', { vms: vms.map((v) => v.id), ram: vms.map((v) => v.ram_pages ?? 4096), faults: vms.map((v) => v.page_requests ?? 'respond'), scalable_mode: true, vccap_pas: true })];
    }
    if (input.type.startsWith('step.')) return decideStep(s, input);
    if (input.type === 'iommu_report_device_fault') return reportedFault(s, input);
    if (input.type === 'iommu_page_response.ret') return [evt('page_response.returned', { ret: (input.payload as Ret).ret })];
    if (input.type.endsWith('.ret')) return decideReply(s, input);
    return [evt('ignored', { why: `guest-viommu has no handler for ${input.type}` })];
  },

  evolve(s, o): GuestViommuState {
    if (o.kind !== 'event') return s;
    const p = o.payload as Record<string, unknown> & { vm: string; pasid: number };
    const vm = s.vms[p.vm];
    switch (o.type) {
      case 'viommu.realized': {
        const ids = p.vms as string[];
        return { ...s, vms: Object.fromEntries(ids.map((id, i) => [id, { table: {}, cache: {}, ram: (p.ram as number[])[i]!, faults: (p.faults as Array<'respond' | 'ignore'>)[i]! }])) };
      }
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
