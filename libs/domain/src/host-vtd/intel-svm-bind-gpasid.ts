import {
  GPASID_BIND_DATA_MINSZ, GPASID_BIND_DATA_VENDOR_OFFSET, IOMMU_GPASID_BIND_VERSION_1, IOMMU_PASID_FORMAT_INTEL_VTD, IOMMU_PASID_FORMAT_LAST,
  IOMMU_SVA_GPASID_VAL, IOMMU_SVA_VTD_GPASID_CD,
  IOMMU_SVA_VTD_GPASID_EAFE, IOMMU_SVA_VTD_GPASID_EMTE, IOMMU_SVA_VTD_GPASID_LAST, IOMMU_SVA_VTD_GPASID_PCD, IOMMU_SVA_VTD_GPASID_PWT,
  IOMMU_SVA_VTD_GPASID_SRE, ERRNO, PGTT_NESTED, type ErrnoName, type GpasidBindData, type PasidEntry,
} from '../../../contracts/src/index.js';
import { reply } from '../request-reply.js';
import { flushPasidCache, flushPiotlb } from './caches.js';
import { nullDevice, oops } from './oops.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState } from './state.js';

/**
 * intel_svm_bind_gpasid (DOMAIN.md §2.2), behind iommu_uapi_sva_bind_gpasid: the guest's first-level
 * table nested on the VM's second level in the device's PASID-table entry for the host PASID.
 */
export function intelSvmBindGpasid(s: HostVtdState, input: HostInputOf<'iommu_sva_bind_gpasid'>): HostOut[] {
  const p = input.payload;
  const mdev = p.mdev ?? null;
  // v5.6-v5.8: the device's IOMMU lookup dereferences dev before any check; v5.9: WARN_ON(!iommu)
  if (p.dev === null || p.dev === undefined) return nullDevice(s, input, 'intel_svm_bind_gpasid', 'iommu_sva_bind_gpasid');
  const dev = p.dev;
  const rejected = (rej: Rejection): HostOut[] => [
    evt('bind_gpasid.rejected', { vm: p.vm, dev, mdev, hpasid: fieldOf(p.data, 'hpasid'), errno: rej.errno, why: rej.why }), ...reply(input, { ret: -ERRNO[rej.errno] }),
  ];
  const copied = copyBindData(p.data);
  if ('errno' in copied) return rejected(copied);
  const d = copied.data;
  const rej = checkBindGpasid(s, p.domain, p.dev, d);
  if (rej === 'users') {
    const sdev = s.svm[d.hpasid]!.devs[p.dev]!;
    return [evt('svm.users_inc', { vm: p.vm, dev: p.dev, mdev, domain: p.domain, hpasid: d.hpasid, users: sdev.users + 1, boundDomain: sdev.domain }), ...reply(input, { ret: 0 })];
  }
  if (rej) return rejected(rej);
  if (s.policy!['vtd.sdev_iommu_before_alloc'] && !s.svm[d.hpasid]) return oops(input, 'intel_svm_bind_gpasid', 'sdev->iommu = iommu while sdev is still NULL (the !svm branch)');
  const domain = s.domains[p.domain]!;
  const entry: PasidEntry = { p: true, fpd: false, pgtt: PGTT_NESTED, flptr: d.gpgd, did: domain.did, aw: d.addr_width, vm: domain.vm };
  const outs: HostOut[] = [
    // "Fix sid not set issue": without it sdev->sid stays 0 (bug #7)
    evt('svm.bound', { vm: p.vm, dev: p.dev, mdev, domain: p.domain, hpasid: d.hpasid, gpasid: d.gpasid, sid: s.policy!['vtd.bind_sets_sdev_sid'] ? p.dev : null, owner: s.ioasid[d.hpasid]?.set ?? null }),
    evt('pasid_entry.set', { dev: p.dev, pasid: d.hpasid, entry, via: 'intel_pasid_setup_nested' }),
  ];
  // caching mode: PASID-cache + PIOTLB invalidation after setup; else a write-buffer flush
  if (s.host!.caching_mode) outs.push(flushPasidCache(s, domain.did, d.hpasid, 'setup_nested (CM)'), flushPiotlb(s, domain.did, d.hpasid, 'all', 'setup_nested (CM)'));
  return [...outs, ...reply(input, { ret: 0 })];
}

/** A field of an unchecked user struct, as it is (or null when absent). */
export const fieldOf = (data: unknown, k: string): unknown => (typeof data === 'object' && data !== null ? (Reflect.get(data, k) ?? null) : null);

export interface Rejection {
  errno: ErrnoName;
  /** the check that failed, in the driver's terms */
  why: string;
}

const reject = (errno: ErrnoName, why: string): Rejection => ({ errno, why });
const isInt = (x: unknown): x is number => Number.isInteger(x);

/**
 * iommu_uapi_sva_bind_gpasid / iommu_sva_prepare_bind_data + iommu_check_bind_data: the IOMMU core's
 * copy of the user struct. The core wants only the fields before the vendor union (argsz >=
 * offsetof(vendor), 56) and checks version, format range and flags; the vendor part, and the argsz
 * that covers it, are the driver's to check (checkBindGpasid) (DOMAIN.md §7.6). The format range is
 * iommu_check_bind_data's [M]; its check of the reserved padding is not modelled.
 */
export function copyBindData(data: unknown): Rejection | { data: GpasidBindData } {
  if (!data || typeof data !== 'object') return reject('EINVAL', 'no bind data');
  // read as the user's struct, each field possibly absent (and of any type: each is checked before use)
  const d: Partial<GpasidBindData> = data;
  if (!isInt(d.argsz) || d.argsz < GPASID_BIND_DATA_VENDOR_OFFSET) return reject('EINVAL', 'argsz < offsetof(iommu_gpasid_bind_data, vendor)');
  if (d.version !== IOMMU_GPASID_BIND_VERSION_1) return reject('EINVAL', `version ${String(d.version)} is not IOMMU_GPASID_BIND_VERSION_1`);
  if (!isInt(d.format) || d.format < 0 || d.format >= IOMMU_PASID_FORMAT_LAST) return reject('EINVAL', `format ${String(d.format)} >= IOMMU_PASID_FORMAT_LAST`);
  if (!isInt(d.flags) || d.flags & ~IOMMU_SVA_GPASID_VAL) return reject('EINVAL', 'unknown flags');
  // copy_from_user of min(argsz, sizeof): the driver checks argsz and each vendor field before it uses them
  return { data: d as GpasidBindData };
}

/**
 * The checks of intel_svm_bind_gpasid and intel_pasid_setup_nested, in the driver's order
 * (DOMAIN.md §2.2 points 5-6). Returns the first that fails, `users` when an aux device shares an
 * existing bind (users++), or null. `dev` is known non-NULL here.
 */
export function checkBindGpasid(s: HostVtdState, domainId: number, dev: string, data: GpasidBindData): Rejection | 'users' | null {
  const domain = s.domains[domainId];
  const device = s.devices[dev];
  if (!device) return reject('EINVAL', 'device_to_iommu: no IOMMU for the device');
  if (data.format !== IOMMU_PASID_FORMAT_INTEL_VTD) return reject('EINVAL', `format ${data.format} is not IOMMU_PASID_FORMAT_INTEL_VTD`);
  // the core ensured argsz reaches the union; the VT-d part must be there too (DOMAIN.md §7.6)
  if (data.argsz < GPASID_BIND_DATA_MINSZ) return reject('EINVAL', 'argsz < offsetofend(iommu_gpasid_bind_data, vendor.vtd)');
  const vflags = data.vendor?.vtd?.flags;
  if (!isInt(vflags) || vflags < 0 || vflags & ~(IOMMU_SVA_VTD_GPASID_LAST - 1)) return reject('EINVAL', 'unknown vendor.vtd flags');
  if (device.pasidBits !== 20) return reject('EINVAL', `pci_max_pasids is 2^${device.pasidBits}, not 2^20`);
  if (!isInt(data.hpasid) || data.hpasid <= 0 || data.hpasid >= s.pasidMax) return reject('EINVAL', 'hpasid outside (0, PASID_MAX)');
  if (!domain || !domain.devs[dev]) return reject('EINVAL', 'no device_domain_info for the device in this domain');
  if (s.policy!['vtd.bind_checks_pasid_ownership']) {
    const owner = s.ioasid[data.hpasid];
    if (!owner) return reject('ENOENT', 'ioasid_find: PASID not allocated');
    if (owner.set !== domain.vm) return reject('EACCES', `ioasid_find: PASID belongs to set ${owner.set}`);
  }
  if (s.svm[data.hpasid]?.devs[dev]) {
    // before d315e9e684d1 an aux-capable device counted repeated binds (bug #6)
    if (device.aux && s.policy!['vtd.aux_shared_gpasid_bind'] === 'users') return 'users';
    return reject('EBUSY', '(dev, PASID) already bound');
  }
  // intel_pasid_setup_nested
  if (!s.host!.ecap.nest || !domain.nesting) return reject('EINVAL', 'no ecap_nest, or the domain is not DOMAIN_FLAG_NESTING_MODE');
  if (s.pasidTable[dev]?.[data.hpasid]?.p) return reject('EBUSY', 'PASID entry already present');
  if (data.addr_width === 57) {
    if (!(s.host!.la57 && s.host!.cap_5lp)) return reject('EINVAL', '57-bit first level needs LA57 and cap_5lp');
  } else if (data.addr_width !== 48) return reject('EINVAL', `address width ${data.addr_width} is neither 48 nor 57`);
  // domain->max_addr: the end of the highest second-stage mapping (intel_iommu_map raises it), here the
  // guest's RAM that QEMU maps at GPA 0; the bound is that, not 2^addr_width (DOMAIN.md §7.9)
  const maxAddr = (s.vms[domain.vm]?.ram ?? 0) * 4096;
  if (!isInt(data.gpgd) || data.gpgd < 0 || data.gpgd > maxAddr) return reject('EINVAL', 'gPGD beyond the domain max_addr');
  if (vflags & IOMMU_SVA_VTD_GPASID_SRE && !s.host!.ecap.srs) return reject('EINVAL', 'SRE without ecap_srs');
  if (vflags & IOMMU_SVA_VTD_GPASID_EAFE && !s.host!.ecap.eafs) return reject('EINVAL', 'EAFE without ecap_eafs');
  if (vflags & (IOMMU_SVA_VTD_GPASID_PCD | IOMMU_SVA_VTD_GPASID_PWT | IOMMU_SVA_VTD_GPASID_EMTE | IOMMU_SVA_VTD_GPASID_CD)) {
    return reject('EINVAL', 'memory-type flags are not supported');
  }
  return null;
}
