import {
  GPASID_BIND_DATA_MINSZ, IOMMU_GPASID_BIND_VERSION_1, IOMMU_PASID_FORMAT_INTEL_VTD, IOMMU_SVA_GPASID_VAL, IOMMU_SVA_VTD_GPASID_CD,
  IOMMU_SVA_VTD_GPASID_EAFE, IOMMU_SVA_VTD_GPASID_EMTE, IOMMU_SVA_VTD_GPASID_LAST, IOMMU_SVA_VTD_GPASID_PCD, IOMMU_SVA_VTD_GPASID_PWT,
  IOMMU_SVA_VTD_GPASID_SRE, type ErrnoName, type GpasidBindData,
} from '../../../contracts/src/index.js';
import type { HostVtdState } from './state.js';

export interface Rejection {
  errno: ErrnoName;
  /** the check that failed, in the driver's terms */
  why: string;
}

const reject = (errno: ErrnoName, why: string): Rejection => ({ errno, why });
const isInt = (x: unknown): x is number => Number.isInteger(x);

/** iommu_uapi_sva_bind_gpasid / iommu_sva_prepare_bind_data: the IOMMU core's copy of the user struct. */
export function checkBindUapi(data: unknown): Rejection | null {
  if (!data || typeof data !== 'object') return reject('EINVAL', 'no bind data');
  const d = data as Partial<GpasidBindData>;
  if (!isInt(d.argsz) || d.argsz < GPASID_BIND_DATA_MINSZ) return reject('EINVAL', 'argsz < offsetofend(vendor.vtd)');
  if (d.version !== IOMMU_GPASID_BIND_VERSION_1) return reject('EINVAL', `version ${String(d.version)} is not IOMMU_GPASID_BIND_VERSION_1`);
  if (!isInt(d.flags) || d.flags & ~IOMMU_SVA_GPASID_VAL) return reject('EINVAL', 'unknown flags');
  return null;
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
  if (!isInt(data.gpgd) || data.gpgd < 0 || data.gpgd >= 2 ** data.addr_width) return reject('EINVAL', 'gPGD beyond the domain max_addr');
  if (vflags & IOMMU_SVA_VTD_GPASID_SRE && !s.host!.ecap.srs) return reject('EINVAL', 'SRE without ecap_srs');
  if (vflags & IOMMU_SVA_VTD_GPASID_EAFE && !s.host!.ecap.eafs) return reject('EINVAL', 'EAFE without ecap_eafs');
  if (vflags & (IOMMU_SVA_VTD_GPASID_PCD | IOMMU_SVA_VTD_GPASID_PWT | IOMMU_SVA_VTD_GPASID_EMTE | IOMMU_SVA_VTD_GPASID_CD)) {
    return reject('EINVAL', 'memory-type flags are not supported');
  }
  return null;
}
