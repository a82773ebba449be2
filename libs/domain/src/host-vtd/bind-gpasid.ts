import {
  ERRNO, GPASID_BIND_DATA_MINSZ, IOMMU_PASID_FORMAT_INTEL_VTD, IOMMU_SVA_VTD_GPASID_CD, IOMMU_SVA_VTD_GPASID_EAFE,
  IOMMU_SVA_VTD_GPASID_EMTE, IOMMU_SVA_VTD_GPASID_LAST, IOMMU_SVA_VTD_GPASID_PCD, IOMMU_SVA_VTD_GPASID_PWT,
  IOMMU_SVA_VTD_GPASID_SRE, type ErrnoName, type GpasidBindData,
} from '../../../contracts/src/index.js';
import { PASID_MAX } from '../topology.js';
import type { HostVtdState } from './state.js';

export interface Rejection {
  errno: ErrnoName;
  /** the check that failed, in the driver's terms */
  why: string;
}

const reject = (errno: ErrnoName, why: string): Rejection => ({ errno, why });

/**
 * The checks of intel_svm_bind_gpasid and intel_pasid_setup_nested, in the driver's order
 * (DOMAIN.md §2.2 points 5-6). Returns the first that fails, or null. `dev` is known non-NULL here.
 */
export function checkBindGpasid(s: HostVtdState, domainId: number, dev: string, data: GpasidBindData | undefined): Rejection | null {
  const domain = s.domains[domainId];
  if (!s.devices[dev]) return reject('EINVAL', 'device_to_iommu: no IOMMU for the device');
  if (!data || typeof data !== 'object') return reject('EINVAL', 'no bind data');
  if (data.format !== IOMMU_PASID_FORMAT_INTEL_VTD) return reject('EINVAL', `format ${data.format} is not IOMMU_PASID_FORMAT_INTEL_VTD`);
  if (!Number.isInteger(data.argsz) || data.argsz < GPASID_BIND_DATA_MINSZ) return reject('EINVAL', 'argsz < offsetofend(vendor.vtd)');
  const vflags = data.vendor?.vtd?.flags;
  if (!Number.isInteger(vflags) || vflags < 0 || vflags & ~(IOMMU_SVA_VTD_GPASID_LAST - 1)) return reject('EINVAL', 'unknown vendor.vtd flags');
  if (!Number.isInteger(data.hpasid) || data.hpasid <= 0 || data.hpasid >= PASID_MAX) return reject('EINVAL', 'hpasid outside (0, 2^20)');
  if (!domain || !domain.devs[dev]) return reject('EINVAL', 'no device_domain_info for the device in this domain');
  if (s.policy!['vtd.bind_checks_pasid_ownership']) {
    const owner = s.ioasid[data.hpasid];
    if (!owner) return reject('ENOENT', 'ioasid_find: PASID not allocated');
    if (owner.set !== domain.vm) return reject('EACCES', `ioasid_find: PASID belongs to set ${owner.set}`);
  }
  if (s.svm[data.hpasid]?.devs[dev]) return reject('EBUSY', '(dev, PASID) already bound');
  // intel_pasid_setup_nested
  if (!s.host!.ecap.nest || !domain.nesting) return reject('EINVAL', 'no ecap_nest, or the domain is not DOMAIN_FLAG_NESTING_MODE');
  if (s.pasidTable[dev]?.[data.hpasid]?.p) return reject('EBUSY', 'PASID entry already present');
  if (data.addr_width === 57) {
    if (!(s.host!.la57 && s.host!.cap_5lp)) return reject('EINVAL', '57-bit first level needs LA57 and cap_5lp');
  } else if (data.addr_width !== 48) return reject('EINVAL', `address width ${data.addr_width} is neither 48 nor 57`);
  if (!Number.isInteger(data.gpgd) || data.gpgd < 0 || data.gpgd >= 2 ** data.addr_width) return reject('EINVAL', 'gPGD beyond the domain max_addr');
  if (vflags & IOMMU_SVA_VTD_GPASID_SRE && !s.host!.ecap.srs) return reject('EINVAL', 'SRE without ecap_srs');
  if (vflags & IOMMU_SVA_VTD_GPASID_EAFE && !s.host!.ecap.eafs) return reject('EINVAL', 'EAFE without ecap_eafs');
  if (vflags & (IOMMU_SVA_VTD_GPASID_PCD | IOMMU_SVA_VTD_GPASID_PWT | IOMMU_SVA_VTD_GPASID_EMTE | IOMMU_SVA_VTD_GPASID_CD)) {
    return reject('EINVAL', 'memory-type flags are not supported');
  }
  return null;
}

export { ERRNO };
