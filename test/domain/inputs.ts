import {
  CACHE_INVALIDATE_INFO_MINSZ, GPASID_BIND_DATA_MINSZ, IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, IOMMU_GPASID_BIND_VERSION_1,
  IOMMU_INV_ADDR_FLAGS_PASID, IOMMU_INV_GRANU_ADDR, IOMMU_INV_GRANU_PASID, IOMMU_INV_PASID_FLAGS_PASID, IOMMU_PASID_FORMAT_INTEL_VTD,
  IOMMU_SVA_GPASID_VAL, PASID_REQUEST_MINSZ, VFIO_IOMMU_FLAG_ALLOC_PASID, ERRNO, resolvePolicy, type HostSpec, type ParentSpec, type PolicyValue,
  type RunOpen, type Topology, type VmSpec,
} from '../../libs/contracts/src/index.js';
import { RID, type Answer, type Input } from './gwt.js';

/**
 * The inputs VFIO type1 and the host VT-d driver consume, named after the kernel calls they model,
 * with the payloads the other deciders send (read off an embedded run's log).
 */

export const HOST: HostSpec = {
  caching_mode: false, ecap: { nest: true, srs: true, eafs: true, pasid: true, prs: true, pds: true },
  cap_5lp: false, la57: false, pasid_bits: 20, prq_irq: 'auto',
};
/** dsa0: an IOMMU-backed parent with ATS and PRI, aux domains, 20 PASID bits */
export const DSA0: ParentSpec = { id: 'dsa0', kind: 'iommu-backed', rid: RID, ats: true, pri: true, pasid_bits: 20, aux: true };
const vm = (id: string, mdevs: string[]): VmSpec => ({ id, nesting: true, mdevs: mdevs.map((m) => ({ id: m, parent: 'dsa0' })), ram_pages: 4096, page_requests: 'respond' });

/** vm1 with mdev1 and mdev2 on dsa0, and vm2 with mdev3 on dsa0 (another VM on the same IOMMU). */
export const TOPOLOGY: Topology = { host: HOST, parents: [DSA0], vms: [vm('vm1', ['mdev1', 'mdev2']), vm('vm2', ['mdev3'])] };

/** The run opens: every component learns the policy of `preset` (plus `--set` overrides) and the machine. */
export function runOpen(preset: string, sets: Record<string, PolicyValue> = {}, topology: Topology = TOPOLOGY): Input {
  const p = resolvePolicy(preset, sets);
  const open: RunOpen = { preset: p.preset, policy: p.values, topology };
  return { type: 'run.open', from: 'orchestrator', payload: { ...open } };
}

// ---- VFIO type1: what QEMU (the guest vIOMMU) and the orchestrator's steps ask ----

/** VFIO_SET_IOMMU(VFIO_TYPE1_NESTING_IOMMU) on the VM's container. */
export const VFIO_SET_IOMMU = (vmId: string, nesting = true): Input => ({ type: 'step.vfio_set_iommu', from: 'orchestrator', payload: { step: 1, vm: vmId, nesting } });

/** VFIO_GROUP_SET_CONTAINER: vfio_iommu_type1_attach_group of an mdev group. */
export const VFIO_ATTACH_GROUP = (vmId: string, group: string, mdevs = [group]): Input => ({ type: 'step.vfio_attach_group', from: 'orchestrator', payload: { step: 1, vm: vmId, group, mdevs } });

/** VFIO_IOMMU_PASID_REQUEST{ALLOC, [min, max]}: QEMU forwarding the guest's VCMD ALLOC_PASID. */
export const PASID_ALLOC = (vmId: string, min = 1, max = 0xfffff): Input => ({
  type: 'VFIO_IOMMU_PASID_REQUEST', from: 'guest-viommu', payload: { vm: vmId, req: { argsz: PASID_REQUEST_MINSZ, flags: VFIO_IOMMU_FLAG_ALLOC_PASID, range: { min, max } }, tag: 'qemu' },
});

export const BIND_PGTBL = 0;
export const UNBIND_PGTBL = 1;
export const CACHE_INVLD = 2;

/** VFIO_IOMMU_NESTING_OP{argsz, flags = op, data}. */
export const NESTING_OP = (vmId: string, op: number, data: Record<string, unknown>, argsz = 16): Input => ({
  type: 'VFIO_IOMMU_NESTING_OP', from: 'guest-viommu', payload: { vm: vmId, op: { argsz, flags: op, data }, tag: 'qemu' },
});

/** struct iommu_gpasid_bind_data as QEMU fills it (hpasid = gpasid), with `over` changing fields. */
export function gpasidBindData(hpasid: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    argsz: GPASID_BIND_DATA_MINSZ, version: IOMMU_GPASID_BIND_VERSION_1, format: IOMMU_PASID_FORMAT_INTEL_VTD, flags: IOMMU_SVA_GPASID_VAL,
    // the gPGD inside the guest's 16 MiB of RAM (the domain's max_addr, DOMAIN.md §7.9)
    gpgd: 0x345000, hpasid, gpasid: hpasid, addr_width: 48, vendor: { vtd: { flags: 0, pat: 0, emt: 0 } }, ...over,
  };
}

/** struct iommu_cache_invalidate_info, PASID-selective: `cache` (IOTLB 1, DEV_IOTLB 2, PASID 4) for all of `pasid`. */
export function pasidInvalidateInfo(pasid: number, cache = 1, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    argsz: CACHE_INVALIDATE_INFO_MINSZ, version: IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, cache, granularity: IOMMU_INV_GRANU_PASID,
    pasid_info: { flags: IOMMU_INV_PASID_FLAGS_PASID, pasid }, ...over,
  };
}

/** struct iommu_cache_invalidate_info, page-selective (ADDR): `pages` 4K pages from `addr` in `pasid`. */
export function addrInvalidateInfo(pasid: number, addr: number, pages: number, cache = 1): Record<string, unknown> {
  return {
    argsz: CACHE_INVALIDATE_INFO_MINSZ, version: IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, cache, granularity: IOMMU_INV_GRANU_ADDR,
    addr_info: { flags: IOMMU_INV_ADDR_FLAGS_PASID, pasid, addr, granule_size: 4096, nb_granules: pages },
  };
}

/** vfio_mdev_get_iommu_device as the parent driver answers it: dsa0 for every mdev but those in `over` (null: none). */
export const iommuDeviceOf = (over: Record<string, string | null>): Answer => (req) => {
  const mdev = req.mdev as string;
  return { ret: 0, value: mdev in over ? over[mdev] : RID, detail: { parent: 'dsa0', aux: true } };
};

// ---- host VT-d: what VFIO calls, and what the devices do ----

const fromVfio = (type: string, payload: Record<string, unknown>): Input => ({ type, from: 'vfio-type1', payload: { ...payload, tag: 'vfio' } });

/** iommu_domain_alloc + DOMAIN_ATTR_NESTING: the host numbers domains from 1, DIDs from 2. */
export const iommu_domain_alloc = (vmId: string, nesting = true) => fromVfio('iommu_domain_alloc', { vm: vmId, nesting });

/** iommu_aux_attach_device(domain, dev): the mdev's aux domain on its parent, with a default PASID. */
export const iommu_aux_attach_device = (vmId: string, domain: number, mdev: string, dev = RID) => fromVfio('iommu_aux_attach_device', { vm: vmId, domain, dev, mdev });

/** ioasid_alloc(set, min, max): the lowest free PASID of [min, max] for the VM's set. */
export const ioasid_alloc = (set: string, min: number, max = min) => fromVfio('ioasid_alloc', { set, min, max });

/** iommu_sva_bind_gpasid(domain, dev, data) -> intel_svm_bind_gpasid. */
export const iommu_sva_bind_gpasid = (a: { vm?: string; domain?: number; dev?: string | null; mdev?: string; data: Record<string, unknown> }) =>
  fromVfio('iommu_sva_bind_gpasid', { vm: a.vm ?? 'vm1', domain: a.domain ?? 1, dev: a.dev === undefined ? RID : a.dev, mdev: a.mdev ?? 'mdev1', data: a.data });

/** iommu_sva_unbind_gpasid(domain, dev, pasid) -> intel_svm_unbind_gpasid, as VFIO calls it (data and pasid). */
export const iommu_sva_unbind_gpasid = (a: { vm?: string; domain?: number; dev?: string | null; mdev?: string; pasid: number; unwind?: boolean }) =>
  fromVfio('iommu_sva_unbind_gpasid', {
    vm: a.vm ?? 'vm1', domain: a.domain ?? 1, dev: a.dev === undefined ? RID : a.dev, mdev: a.mdev ?? 'mdev1',
    data: gpasidBindData(a.pasid), pasid: a.pasid, ...(a.unwind ? { unwind: true } : {}),
  });

/** iommu_cache_invalidate(domain, dev, info) -> intel_iommu_sva_invalidate. */
export const iommu_cache_invalidate = (a: { vm?: string; domain?: number; dev?: string | null; mdev?: string; info: Record<string, unknown> }) =>
  fromVfio('iommu_cache_invalidate', { vm: a.vm ?? 'vm1', domain: a.domain ?? 1, dev: a.dev === undefined ? RID : a.dev, mdev: a.mdev ?? 'mdev1', info: a.info });

/** The guest CPU writes a first-level PTE: `va` -> `gpa` in the table at `gpgd`. */
export const guest_writes_pte = (vmId: string, gpgd: number, va: number, gpa: number): Input => ({
  type: 'mem.write_pte', from: 'guest-viommu', payload: { vm: vmId, gpgd, va, gpa, write: true },
});

/** The device asks for a translation through ATS (fills the IOTLB with the nested result). */
export const ats_translate = (pasid: number, va: number, mdev = 'mdev1'): Input => ({
  type: 'ats_translate', from: 'mdev-parent', payload: { rid: RID, pasid, va, write: false, mdev, tag: 'dev' },
});

/** A host entry point as VFIO's callee: `ret` for the mdevs in `rets`, 0 for the others. */
export const hostReturnsFor = (rets: Record<string, number>): Answer => (req) => ({ ret: rets[req.mdev as string] ?? 0 });

/** A host entry point handed a NULL device (v1 VFIO): the machine oopses in `fn`. */
export const oopsesOnNull = (fn: string): Answer => (req) => (req.dev === null ? { ret: -ERRNO.EFAULT, oops: fn } : { ret: 0 });

/** The PASID the host hands vm1 first (the lowest free). */
export const BOUND_PASID = 1;

/** vm1's nesting container (group g1: mdev1, mdev2 on dsa0) with PASID 1 allocated and bound, as VFIO sees it. */
export const boundVm1 = (preset: string): Input[] => [
  runOpen(preset),
  VFIO_SET_IOMMU('vm1'),
  VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1', 'mdev2']),
  PASID_ALLOC('vm1'),
  NESTING_OP('vm1', BIND_PGTBL, gpasidBindData(BOUND_PASID)),
];

/**
 * A page request descriptor from mdev1's device landing in the PRQ (page_req_dsc): a read of `addr`
 * on `pasid`, group 5, LPIG set (the device waits for the group's response); `over` changes fields.
 */
export const page_request = (pasid: number, over: Record<string, unknown> = {}, mdev = 'mdev1'): Input => ({
  type: 'page_request', from: 'mdev-parent',
  payload: { mdev, req: { rid: RID, pasid_present: true, pasid, addr: 0x800000, rd_req: true, wr_req: false, exe_req: false, pm_req: false, lpig: true, prg_index: 5, priv_data_present: false, ...over } },
});
