import { ERRNO, QI_RESP_INVALID, type Envelope, type ErrnoName, type GpasidBindData } from '../../../contracts/src/index.js';
import { cmd, evt, type Output } from '../decider.js';
import { checkBindUapi } from './bind-gpasid.js';
import { flushPasidCache, flushPiotlb } from './caches.js';
import { runPrqThread } from './prq.js';
import { answerCaller, callerOfHost, devtlbFlush, park } from './qi.js';
import type { HostVtdState, HostWait } from './state.js';

type P = { vm: string; domain: number; dev: string | null; mdev?: string; data?: GpasidBindData; pasid?: number; unwind?: boolean };

/** intel_svm_unbind_gpasid (DOMAIN.md §2.3): tear down the entry, flush, drain, free the sdev. */
export function unbindGpasid(s: HostVtdState, input: Envelope, oops: (fn: string, detail: string) => Output[]): Output[] {
  const p = input.payload as P;
  const caller = callerOfHost(input);
  if (p.dev === null || p.dev === undefined) return oops('intel_svm_unbind_gpasid', 'device_to_iommu(dev=NULL) called from iommu_sva_unbind_gpasid');
  const no = (errno: ErrnoName, why: string) => [evt('unbind_gpasid.rejected', { vm: p.vm, dev: p.dev, errno, why }), ...answerCaller(caller, { ret: -ERRNO[errno] })];
  if (p.data !== undefined && p.pasid === undefined) {
    const bad = checkBindUapi(p.data);
    if (bad) return no(bad.errno, bad.why);
  }
  const pasid = p.pasid ?? p.data?.hpasid;
  if (!Number.isInteger(pasid) || pasid! <= 0 || pasid! >= s.pasidMax) return no('EINVAL', 'PASID outside (0, PASID_MAX)');
  const domain = s.domains[p.domain];
  if (domain && !p.unwind && s.policy!['vtd.bind_checks_pasid_ownership']) {
    const owner = s.ioasid[pasid!];
    if (!owner) return no('ENOENT', 'ioasid_find: PASID not allocated');
    if (owner.set !== domain.vm) return no('EACCES', `ioasid_find: PASID belongs to set ${owner.set}`);
  }
  const sdev = s.svm[pasid!]?.devs[p.dev];
  if (!sdev) {
    // v1: "unbind can fail if ... a pasid which hasn't ever been bound" (Yi Liu on v1 6/8)
    if (s.policy!['vfio.bind_unwind'] === 'for_each_dev') return no('EINVAL', 'PASID never bound on this device');
    return [evt('unbind_gpasid.noop', { vm: p.vm, dev: p.dev, pasid }), ...answerCaller(caller, { ret: 0 })];
  }
  if (sdev.users > 1) return [evt('svm.users_dec', { vm: p.vm, dev: p.dev, hpasid: pasid, users: sdev.users - 1 }), ...answerCaller(caller, { ret: 0 })];
  const entry = s.pasidTable[p.dev]?.[pasid!];
  const did = entry?.did ?? domain?.did ?? 0;
  // intel_pasid_tear_down_entry(fault_ignore): clear (FPD if fault_ignore), PASID cache, PIOTLB, devTLB
  const outs: Output[] = [
    evt('pasid_entry.cleared', { dev: p.dev, pasid, did, vm: entry?.vm ?? p.vm, fpd: s.policy!['vtd.fpd_on_teardown'], via: 'intel_pasid_tear_down_entry' }),
    flushPasidCache(s, did, pasid!, 'teardown'),
    flushPiotlb(s, did, pasid!, 'all', 'teardown'),
  ];
  const w: HostWait = { kind: 'unbind', caller, vm: p.vm, dev: p.dev, pasid: pasid!, acks: 0, stage: 'flush', ret: 0, detail: { sid: sdev.sid }, unwind: !!p.unwind };
  if (!s.host!.caching_mode) {
    // the devTLB flush goes to sdev->sid (bug #7: never set, so to 00:00.0)
    const f = devtlbFlush(s, input, sdev.sid ?? '00:00.0', pasid!, 'all', 'teardown');
    for (const o of f.outs) outs.push(o);
    if (f.awaited) return [...outs, park(input, { ...w, acks: 1 })];
  }
  return [...outs, ...afterFlush(s, input, w)];
}

/** After the teardown flushes: drain the page requests of the PASID (§2.6.5), then free the sdev. */
export function afterFlush(s: HostVtdState, input: Envelope, w: HostWait): Output[] {
  if (w.stage === 'flush' && s.policy!['vtd.drain_prq']) {
    // wait until the PRQ holds no entry for this PASID: the held PRQ thread runs now
    const ring = s.prq;
    const thread = ring.some((r) => r.pasid === w.pasid) ? runPrqThread(s, ring, `drain of PASID ${w.pasid}`) : [];
    const sid = (w.detail.sid as string | null) ?? '00:00.0';
    const did = s.pasidTable[w.dev]?.[w.pasid]?.did ?? 0;
    // [wait(FENCE), PIOTLB(NONG), devTLB(PASID)] with QI_OPT_WAIT_DRAIN: requests issued before the ack reach the queue
    const outs: Output[] = [...thread, evt('qi.drain', { pasid: w.pasid, sid, opts: 'WAIT_DRAIN', fence: true }), flushPiotlb(s, did, w.pasid, 'all', 'drain')];
    const f = devtlbFlush(s, input, sid, w.pasid, 'all', 'drain');
    for (const o of f.outs) outs.push(o);
    const next: HostWait = { ...w, stage: 'drain', acks: f.awaited ? 1 : 0 };
    if (f.awaited) return [...outs, park(input, next)];
    return [...outs, ...afterFlush(s, input, next)];
  }
  const outs: Output[] = [];
  if (w.stage === 'drain') {
    const left = s.prq.filter((r) => r.pasid === w.pasid);
    // the PRQ can hold a long workload's page requests: no spread into push
    if (left.length) for (const o of runPrqThread(s, s.prq, `drain of PASID ${w.pasid}`)) outs.push(o);
    outs.push(evt('prq.drained', { pasid: w.pasid, dev: w.dev }));
    // faults reported but never answered complete INVALID: the device's page group must not wait on a
    // PASID that is gone (the iopf auto-response of later kernels [M]; 5.10 left them pending)
    for (const [key, f] of Object.entries(s.pendingFaults)) {
      const prg = Number(key.slice(key.lastIndexOf(':') + 1));
      if (!key.startsWith(`${w.dev}:${w.pasid}:`)) continue;
      outs.push(evt('fault.responded', { vm: f.vm, rid: w.dev, pasid: w.pasid, prg, by: 'drain' }));
      if (f.needsResponse) {
        outs.push(evt('page_response.sent', { rid: w.dev, pasid: w.pasid, prg, code: 'INVALID', by: 'drain' }));
        outs.push(cmd('mdev-parent', 'page_group_response', { rid: w.dev, pasid: w.pasid, prg, code: QI_RESP_INVALID }));
      }
    }
  }
  return [
    ...outs,
    evt('svm.unbound', { vm: w.vm, dev: w.dev, hpasid: w.pasid, unwind: !!w.unwind, drained: w.stage === 'drain' }),
    evt('qi.wait', { pasid: w.pasid, why: 'unbind' }),
    ...answerCaller(w.caller, { ret: 0 }),
  ];
}
