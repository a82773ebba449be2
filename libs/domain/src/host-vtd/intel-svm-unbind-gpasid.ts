import { ERRNO, QI_RESP_INVALID, type ErrnoName } from '../../../contracts/src/index.js';
import { cmd, foldOutputs } from '../decider.js';
import { answer, callerOf, parked } from '../request-reply.js';
import { devtlbFlush, flushPasidCache, flushPiotlb } from './caches.js';
import { copyBindData, fieldOf } from './intel-svm-bind-gpasid.js';
import { nullDevice } from './oops.js';
import { runPrqThread } from './prq.js';
// a cycle (the decider routes unbind here), used only inside afterFlush, once both modules are loaded
import { hostVtdDecider } from './decider.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState, type HostWait } from './state.js';

type UnbindWait = Extract<HostWait, { kind: 'unbind' }>;

const isInt = (x: unknown): x is number => Number.isInteger(x);

/**
 * intel_svm_unbind_gpasid (DOMAIN.md §2.3): unlink the sdev, tear down the entry, flush, drain, free
 * the sdev. The unlink comes first in the source (list_del_rcu, then intel_pasid_tear_down_entry,
 * then intel_svm_drain_prq): the drain's passes of prq_event_thread answer the device's requests
 * INVALID themselves instead of reporting them to a guest whose PASID is going.
 */
export function intelSvmUnbindGpasid(s: HostVtdState, input: HostInputOf<'iommu_sva_unbind_gpasid'>): HostOut[] {
  const p = input.payload;
  const caller = callerOf(input);
  const dev = p.dev;
  if (dev === null || dev === undefined) return nullDevice(s, input, 'intel_svm_unbind_gpasid', 'iommu_sva_unbind_gpasid');
  const no = (errno: ErrnoName, why: string) => [evt('unbind_gpasid.rejected', { vm: p.vm, dev, errno, why }), ...answer(caller, { ret: -ERRNO[errno] })];
  if (p.data !== undefined && p.pasid === undefined) {
    const copied = copyBindData(p.data);
    if ('errno' in copied) return no(copied.errno, copied.why);
  }
  const pasid = p.pasid ?? fieldOf(p.data, 'hpasid');
  if (!isInt(pasid) || pasid <= 0 || pasid >= s.pasidMax) return no('EINVAL', 'PASID outside (0, PASID_MAX)');
  const domain = s.domains[p.domain];
  if (domain && !p.unwind && s.policy!['vtd.bind_checks_pasid_ownership']) {
    const owner = s.ioasid[pasid];
    if (!owner) return no('ENOENT', 'ioasid_find: PASID not allocated');
    if (owner.set !== domain.vm) return no('EACCES', `ioasid_find: PASID belongs to set ${owner.set}`);
  }
  const sdev = s.svm[pasid]?.devs[dev];
  if (!sdev) {
    // v1: "unbind can fail if ... a pasid which hasn't ever been bound" (Yi Liu on v1 6/8)
    if (s.policy!['vfio.bind_unwind'] === 'for_each_dev') return no('EINVAL', 'PASID never bound on this device');
    return [evt('unbind_gpasid.noop', { vm: p.vm, dev, pasid }), ...answer(caller, { ret: 0 })];
  }
  if (sdev.users > 1) return [evt('svm.users_dec', { vm: p.vm, dev, hpasid: pasid, users: sdev.users - 1 }), ...answer(caller, { ret: 0 })];
  const entry = s.pasidTable[dev]?.[pasid];
  const did = entry?.did ?? domain?.did ?? 0;
  // intel_pasid_tear_down_entry(fault_ignore): clear, PASID cache, PIOTLB, devTLB. unbind_gpasid passes
  // fault_ignore = false, so no FPD (DOMAIN.md §7.10); vtd.fpd_on_teardown is the "what if" override
  const outs: HostOut[] = [
    evt('svm.sdev_unlinked', { vm: p.vm, dev, hpasid: pasid }),
    evt('pasid_entry.cleared', { dev, pasid, did, vm: entry?.vm ?? p.vm, fpd: s.policy!['vtd.fpd_on_teardown'], via: 'intel_pasid_tear_down_entry' }),
    flushPasidCache(s, did, pasid, 'teardown'),
    flushPiotlb(s, did, pasid, 'all', 'teardown'),
  ];
  const w: UnbindWait = { kind: 'unbind', caller, vm: p.vm, dev, pasid, acks: 0, stage: 'flush', unwind: !!p.unwind };
  // devtlb_invalidation_with_pasid: not in caching mode, and only when ATS is on (info->ats_enabled);
  // the sid is the device's own (info->bus, info->devfn), not sdev->sid: bug #7 does not reach it
  if (!s.host!.caching_mode && s.devices[dev]?.ats) {
    const f = devtlbFlush(s, input.id, dev, pasid, 'all', 'teardown');
    for (const o of f.outs) outs.push(o);
    if (f.awaited) return [...outs, parked(input.id, { ...w, acks: 1, desc: f.desc })];
  }
  return [...outs, ...afterFlush(foldOutputs(hostVtdDecider, s, outs), input.id, w)];
}

/**
 * After the teardown flushes (`tag`: the id of the input handled now): drain the page requests of the
 * PASID (intel_svm_drain_prq, §2.6.5), then free the sdev and answer the caller.
 */
export function afterFlush(s: HostVtdState, tag: string, w: UnbindWait): HostOut[] {
  if (w.stage === 'flush' && s.policy!['vtd.drain_prq']) {
    // intel_svm_drain_prq returns at once when PRI is not enabled on the device: no request can be pending (§7.10)
    if (!s.devices[w.dev]?.pri) return [evt('prq.drain_skipped', { pasid: w.pasid, dev: w.dev, why: 'PRI not enabled (info->pri_enabled)' }), ...unbound(w, true)];
    // wait until the PRQ holds no entry for this PASID: the held PRQ thread runs now
    // with PRS_REG.PRO set the drain waits on prq_complete for the thread to clear it (prq-overflow.ts)
    const ring = s.prq;
    const thread = ring.some((r) => r.pasid === w.pasid) || s.pro ? runPrqThread(s, ring, `drain of PASID ${w.pasid}`) : [];
    // the drain's sid is PCI_DEVID(info->bus, info->devfn) too
    const sid = w.dev;
    const did = s.pasidTable[w.dev]?.[w.pasid]?.did ?? 0;
    // [wait(FENCE), PIOTLB(NONG), devTLB(PASID)] with QI_OPT_WAIT_DRAIN: requests issued before the ack reach the
    // queue; the devTLB descriptor's qw1 is 0: one page at address 0, not the whole device TLB (§7.10)
    const outs: HostOut[] = [...thread, evt('qi.drain', { pasid: w.pasid, sid, opts: 'WAIT_DRAIN', fence: true }), flushPiotlb(s, did, w.pasid, 'all', 'drain')];
    const f = devtlbFlush(s, tag, sid, w.pasid, { first: 0, npages: 1 }, 'drain');
    for (const o of f.outs) outs.push(o);
    const next: UnbindWait = { ...w, stage: 'drain', acks: f.awaited ? 1 : 0, desc: f.desc, ites: 0 };
    if (f.awaited) return [...outs, parked(tag, next)];
    // no device answer to wait for (no ATS, or an absent device's flush skipped): the drain goes on in this
    // input, over the state as the thread's pass left it (its queue emptied, its reported faults pending),
    // or the pass would run twice and report the same requests again
    return [...outs, ...afterFlush(foldOutputs(hostVtdDecider, s, outs), tag, next)];
  }
  const outs: HostOut[] = [];
  if (w.stage === 'drain') {
    const left = s.prq.filter((r) => r.pasid === w.pasid);
    // the PRQ can hold a long workload's page requests: no spread into push
    if (left.length) for (const o of runPrqThread(s, s.prq, `drain of PASID ${w.pasid}`)) outs.push(o);
    outs.push(evt('prq.drained', { pasid: w.pasid, dev: w.dev }));
    // faults reported (before the unlink) but never answered complete INVALID: the device's page group
    // must not wait on a PASID that is gone (the iopf auto-response of later kernels [M]; 5.10 left
    // them pending). Read after this input's own pass, which may have reported other devices' requests
    for (const [key, f] of Object.entries(foldOutputs(hostVtdDecider, s, outs).pendingFaults)) {
      const prg = Number(key.slice(key.lastIndexOf(':') + 1));
      if (!key.startsWith(`${w.dev}:${w.pasid}:`)) continue;
      outs.push(evt('fault.responded', { vm: f.vm, rid: w.dev, pasid: w.pasid, prg, by: 'drain' }));
      outs.push(evt('page_response.sent', { rid: w.dev, pasid: w.pasid, prg, code: 'INVALID', by: 'drain' }));
      outs.push(cmd('mdev-parent', 'page_group_response', { rid: w.dev, pasid: w.pasid, prg, code: QI_RESP_INVALID }));
    }
  }
  return [...outs, ...unbound(w, w.stage === 'drain')];
}

/** The sdev goes and the caller is answered; `drained`: intel_svm_drain_prq ran (or had nothing to drain). */
function unbound(w: UnbindWait, drained: boolean): HostOut[] {
  return [
    evt('svm.unbound', { vm: w.vm, dev: w.dev, hpasid: w.pasid, unwind: w.unwind, drained }),
    evt('qi.wait', { pasid: w.pasid, why: 'unbind', dev: w.dev }),
    ...answer(w.caller, { ret: 0 }),
  ];
}
