import { ERRNO, formatRet, type ErrnoName } from '../../contracts/src/index.js';
import {
  CACHE_INVALIDATE_INFO_RULES, CACHE_INVLD, BIND_PGTBL, expectedErrnos, GPASID_BIND_DATA_RULES, judge, NESTING_OP_RULES, obj, opOf,
  PASID_REQUEST_RULES, type Fields, type Judgement, type Policy,
} from './uapi-rules/index.js';
import { sorted, type CommandEntry, type History, type Violation } from './types.js';

type Ioctl = CommandEntry<'vfio-type1', 'VFIO_IOMMU_PASID_REQUEST' | 'VFIO_IOMMU_NESTING_OP'>;
type HostCall = CommandEntry<'host-vtd', 'iommu_sva_bind_gpasid' | 'iommu_cache_invalidate'>;

const violation = (message: string, seqs: Array<number | undefined>): Violation => ({ invariant: 'uapi-errno', message, events: sorted(seqs) });
const names = (j: Judgement<Fields>) => j.rejected.map((r) => `${r.id} (${r.section}: ${r.says})`).join('; ');
const errnos = (set: Set<ErrnoName>) => [...set].map((n) => `-${n}`).join(' or ');

/**
 * The struct half of uapi-errno: every ioctl the VMM issued, judged by the independent reading of the
 * uAPI rules (uapi-rules/) both ways. What the log cannot settle is not judged:
 * - a refused struct is judged only where the kernel reaches the check: the ioctl's own struct always
 *   (the VM has a container); the struct a NESTING_OP carries (bind data, invalidate info) only when
 *   VFIO handed it to the IOMMU layer, on a non-NULL device (before that VFIO's state decides: no
 *   nesting_info, no vfio_mm, a NULL IOMMU device, no device at all; and which check a NULL device
 *   meets first differs by host kernel);
 * - a valid struct may still fail for state (no vfio_mm, quota, a NULL device, ownership, -EBUSY, the
 *   gPGD bound, host capabilities), mostly with -EINVAL too. So "not refused for a struct reason" is
 *   judged where -EINVAL has no state meaning: PASID_REQUEST (its state errnos are the policy's), and a
 *   NESTING_OP refused before VFIO touched a device (bind/unbind: with a vfio_mm held). Inside the IOMMU
 *   layer, a valid invalidate info is judged by the layer's own record (refused as malformed or as an
 *   unsupported type x granularity); a valid bind data is not judged there: every refusal of
 *   intel_svm_bind_gpasid that a struct check could give (-EINVAL) has a state reading as well.
 * UNBIND_PGTBL's data is not judged: DOMAIN.md names no check of it, and it returns 0 (§7.3).
 */
export function judgeIoctls(h: History): Violation[] {
  const host = h.events('host-vtd', 'host.configured')[0]?.payload.host;
  const p: Policy = { ...h.policy(), ...(host ? { pasidMax: 2 ** host.pasid_bits } : {}) };
  const out: Violation[] = [];
  const replies = new Map<string, CommandEntry<'guest-viommu', 'VFIO_IOMMU_PASID_REQUEST.ret' | 'VFIO_IOMMU_NESTING_OP.ret'>>();
  for (const t of ['VFIO_IOMMU_PASID_REQUEST.ret', 'VFIO_IOMMU_NESTING_OP.ret'] as const) {
    for (const r of h.commands('guest-viommu', t)) if (r.component === 'vfio-type1') replies.set(r.payload.re, r);
  }
  const ioctls: Ioctl[] = [...h.commands('vfio-type1', 'VFIO_IOMMU_PASID_REQUEST'), ...h.commands('vfio-type1', 'VFIO_IOMMU_NESTING_OP')]
    .filter((e) => e.component === 'guest-viommu').sort((a, b) => a.seq - b.seq);
  const containers = h.events('vfio-type1', 'container.set_iommu');
  const released = h.events('vfio-type1', 'container.released');
  for (const io of ioctls) {
    const reply = replies.get(io.eventId);
    if (!reply || reply.payload.oops) continue;
    const ret = reply.payload.ret;
    const vm = io.payload.vm;
    // the simulator's VMM without a container has no fd to issue it on; nor has it once the VM was
    // torn down (QEMU closed the container: a real VMM's ioctl would get -EBADF, the model's -ENODEV)
    const set = containers.filter((c) => c.payload.vm === vm && c.seq < io.seq);
    if (!set.length || set.every((c) => released.some((r) => r.payload.vm === vm && r.payload.container === c.payload.container && r.seq > c.seq && r.seq < io.seq))) continue;
    const window = (e: { seq: number; correlationId: string }) => e.correlationId === io.correlationId && e.seq > io.seq && e.seq < reply.seq;
    if (io.type === 'VFIO_IOMMU_PASID_REQUEST') {
      out.push(...judgePasidRequest(obj(io.payload.req), ret, p, [io.seq, reply.seq]));
      continue;
    }
    const header = obj(io.payload.op);
    const hj = judge(NESTING_OP_RULES, header, p);
    if (hj.rejected.length) {
      const want = expectedErrnos(hj);
      if (!answers(ret, want)) out.push(violation(`NESTING_OP returned ${formatRet(ret)} for a header the uAPI refuses with ${errnos(want)}: ${names(hj)}`, [io.seq, reply.seq]));
      continue;
    }
    const op = opOf(header)!;
    // VFIO's own refusals before it touched a device: its calls to the mdev parent or the host are the walk
    const walked = h.entries.some((e) => e.kind === 'command' && e.component === 'vfio-type1' && (e.to === 'mdev-parent' || e.to === 'host-vtd') && window(e));
    if (!walked && ret === -ERRNO.EINVAL && (op === CACHE_INVLD || holdsVfioMm(h, vm, io.seq))) {
      out.push(violation(`NESTING_OP(${OP_NAMES[op]}) with a header the uAPI accepts (DOMAIN.md §1.2) was refused with -EINVAL before any device: VFIO's state refusals there are -EOPNOTSUPP (no nesting_info)${op === CACHE_INVLD ? '' : ' and -EINVAL without a vfio_mm, which the VM holds'}`, [io.seq, reply.seq]));
      continue;
    }
    if (op !== BIND_PGTBL && op !== CACHE_INVLD) continue;
    const calls: HostCall[] = (op === BIND_PGTBL ? h.commands('host-vtd', 'iommu_sva_bind_gpasid') : h.commands('host-vtd', 'iommu_cache_invalidate'))
      .filter((c) => c.component === 'vfio-type1' && window(c) && !('unwind' in c.payload && c.payload.unwind));
    const first = calls[0];
    if (!first || first.payload.dev === null) continue;
    const data = obj(header.data);
    const j = judge(op === BIND_PGTBL ? GPASID_BIND_DATA_RULES : CACHE_INVALIDATE_INFO_RULES, data, p);
    const what = op === BIND_PGTBL ? 'iommu_gpasid_bind_data' : 'iommu_cache_invalidate_info';
    if (j.rejected.length) {
      const want = expectedErrnos(j);
      if (answers(ret, want)) continue;
      const hostReply = h.commands('vfio-type1', op === BIND_PGTBL ? 'iommu_sva_bind_gpasid.ret' : 'iommu_cache_invalidate.ret').find((r) => r.payload.re === first.eventId);
      const how = hostReply && ret >= 0 && hostReply.payload.ret < 0 ? ` (the IOMMU answered ${formatRet(hostReply.payload.ret)}, VFIO reported ${formatRet(ret)})` : '';
      out.push(violation(`${OP_NAMES[op]} returned ${formatRet(ret)} for an ${what} the kernel's checks refuse with ${errnos(want)}${how}: ${names(j)}`, [io.seq, first.seq, hostReply?.seq, reply.seq]));
      continue;
    }
    if (op !== CACHE_INVLD || j.unknown.length) continue;
    // the IOMMU layer's record of why it refused: malformed or unsupported is a struct reason
    const refusals = [...h.events('host-vtd', 'sva_invalidate.rejected'), ...h.events('host-vtd', 'sva_invalidate.unsupported')]
      .filter((e) => window(e) && (e.payload.kind === 'malformed' || e.payload.kind === 'unsupported'));
    if (refusals.length) {
      const why = refusals.map((e) => (e.type === 'sva_invalidate.rejected' ? e.payload.why : `${e.payload.cache} x ${e.payload.granularity} unsupported`));
      out.push(violation(`the IOMMU refused an ${what} that every rule of DOMAIN.md §2.4/§7.6 accepts (${[...new Set(why)].join('; ')})`, [io.seq, ...refusals.map((e) => e.seq), reply.seq]));
    }
  }
  return out;
}

const OP_NAMES = ['BIND_PGTBL', 'UNBIND_PGTBL', 'CACHE_INVLD'] as const;
/** the return value is one of the errnos */
const answers = (ret: number, want: Set<ErrnoName>): boolean => [...want].some((n) => -ERRNO[n] === ret);

function judgePasidRequest(req: Fields, ret: number, p: Policy, seqs: number[]): Violation[] {
  const j = judge(PASID_REQUEST_RULES, req, p);
  if (j.rejected.length) {
    const want = expectedErrnos(j);
    return answers(ret, want) ? [] : [violation(`PASID_REQUEST returned ${formatRet(ret)} for a request the uAPI refuses with ${errnos(want)}: ${names(j)}`, seqs)];
  }
  // a valid request fails only for state: no vfio_mm (vfio.no_vmm_errno) or the allocation (vfio.pasid_alloc_fail_errno) (§2.1)
  const stateErrnos = new Set([p['vfio.no_vmm_errno'], p['vfio.pasid_alloc_fail_errno']]);
  if (ret === -ERRNO.EINVAL && !stateErrnos.has('EINVAL')) {
    return [violation(`PASID_REQUEST refused a request every rule of DOMAIN.md §2.1/§7.5 accepts with -EINVAL, its struct errno (its state errnos here: ${[...stateErrnos].map((n) => `-${n}`).join(', ')})`, seqs)];
  }
  return [];
}

/** a vfio_mm taken for one of the VM's containers and not released before `seq` */
function holdsVfioMm(h: History, vm: string, seq: number): boolean {
  const released = h.events('vfio-type1', 'container.released').filter((e) => e.payload.vm === vm && e.seq < seq);
  return h.events('vfio-type1', 'vfio_mm.get').some((g) => g.payload.vm === vm && g.seq < seq && !released.some((r) => r.payload.container === g.payload.container && r.seq > g.seq));
}
