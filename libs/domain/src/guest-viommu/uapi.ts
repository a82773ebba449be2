import {
  CACHE_INVALIDATE_INFO_MINSZ, GPASID_BIND_DATA_MINSZ, IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, IOMMU_CACHE_INV_TYPE_IOTLB,
  IOMMU_GPASID_BIND_VERSION_1, IOMMU_INV_ADDR_FLAGS_PASID, IOMMU_INV_GRANU_ADDR, IOMMU_INV_GRANU_PASID, IOMMU_INV_PASID_FLAGS_PASID,
  IOMMU_PASID_FORMAT_INTEL_VTD, IOMMU_SVA_GPASID_VAL, IOMMU_SVA_VTD_GPASID_EAFE, IOMMU_SVA_VTD_GPASID_SRE, type GpasidBindData,
  type GuestPasidEntry, type GuestViommuInputs,
} from '../../../contracts/src/index.js';

export type { GuestPasidEntry };

/** QEMU fills hpasid and gpasid with the same value: the guest PASID is the host PASID (identity). */
export function bindData(pasid: number, e: GuestPasidEntry): GpasidBindData {
  return {
    argsz: GPASID_BIND_DATA_MINSZ, version: IOMMU_GPASID_BIND_VERSION_1, format: IOMMU_PASID_FORMAT_INTEL_VTD,
    flags: IOMMU_SVA_GPASID_VAL, gpgd: e.flptr, hpasid: pasid, gpasid: pasid, addr_width: e.addr_width,
    vendor: { vtd: { flags: (e.sre ? IOMMU_SVA_VTD_GPASID_SRE : 0) | (e.eafe ? IOMMU_SVA_VTD_GPASID_EAFE : 0), pat: 0, emt: 0 } },
  };
}

/** The trapped PIOTLB descriptor (type 6) as QEMU passes it on: G=2 all in PASID, G=3 page-selective. */
export function piotlbInfo(pasid: number, granularity: string, addr: number, pages: number): Record<string, unknown> {
  return granularity === 'addr'
    ? { argsz: CACHE_INVALIDATE_INFO_MINSZ, version: IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, cache: IOMMU_CACHE_INV_TYPE_IOTLB, granularity: IOMMU_INV_GRANU_ADDR,
        addr_info: { flags: IOMMU_INV_ADDR_FLAGS_PASID, pasid, addr, granule_size: 4096, nb_granules: pages } }
    : { argsz: CACHE_INVALIDATE_INFO_MINSZ, version: IOMMU_CACHE_INVALIDATE_INFO_VERSION_1, cache: IOMMU_CACHE_INV_TYPE_IOTLB, granularity: IOMMU_INV_GRANU_PASID,
        pasid_info: { flags: IOMMU_INV_PASID_FLAGS_PASID, pasid } };
}

/** The raw iommu_cache_invalidate_info of an ioctl_invalidate step: every field as the VMM wrote it. */
export function rawInfo(p: GuestViommuInputs['step.ioctl_invalidate']): Record<string, unknown> {
  const head = { argsz: p.argsz, version: p.version, cache: p.cache, granularity: p.granularity };
  return p.granularity === IOMMU_INV_GRANU_ADDR
    ? { ...head, addr_info: { flags: p.flags, pasid: p.pasid, addr: p.addr, granule_size: p.granule_size, nb_granules: p.nb_granules } }
    : { ...head, pasid_info: { flags: p.flags, pasid: p.pasid } };
}

/** The raw iommu_gpasid_bind_data of an ioctl_bind / ioctl_unbind step. */
export function rawBind(p: GuestViommuInputs['step.ioctl_bind']): Record<string, unknown> {
  return {
    argsz: p.argsz, version: p.version, format: p.format, flags: p.flags, gpgd: p.gpgd, hpasid: p.hpasid, gpasid: p.gpasid ?? p.hpasid,
    addr_width: p.addr_width, vendor: { vtd: { flags: p.vtd_flags, pat: p.pat, emt: p.emt } },
  };
}
