/**
 * The uAPI of the vSVA series (v7) as the simulator carries it: ioctl payloads keep the kernel's
 * field names. Sizes are the kernel's `minsz` (offsetofend of the last mandatory field).
 */

/** struct vfio_iommu_type1_pasid_request */
export const VFIO_IOMMU_FLAG_ALLOC_PASID = 1 << 0;
export const VFIO_IOMMU_FLAG_FREE_PASID = 1 << 1;
export const PASID_REQUEST_MINSZ = 16; // argsz, flags, range.min, range.max
/** v7: "at most 31 bits PASID", checked as min, max > (1 << VFIO_IOMMU_PASID_BITS) (DOMAIN.md §7.5) */
export const VFIO_IOMMU_PASID_BITS = 31;
export interface PasidRequest {
  argsz: number;
  flags: number;
  range: { min: number; max: number };
}

/** struct vfio_iommu_type1_nesting_op: low 16 bits of flags are the op */
export const VFIO_IOMMU_NESTING_OP_BIND_PGTBL = 0;
export const VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL = 1;
export const VFIO_IOMMU_NESTING_OP_CACHE_INVLD = 2;
export const NESTING_OP_MASK = 0xffff;
export const NESTING_OP_NAMES = ['BIND_PGTBL', 'UNBIND_PGTBL', 'CACHE_INVLD'] as const;
export interface NestingOp {
  argsz: number;
  flags: number;
  data: Record<string, unknown>;
}

/** struct iommu_gpasid_bind_data */
export const IOMMU_GPASID_BIND_VERSION_1 = 1;
export const IOMMU_PASID_FORMAT_INTEL_VTD = 1;
export const IOMMU_SVA_GPASID_VAL = 1 << 0;
export const IOMMU_SVA_VTD_GPASID_SRE = 1 << 0;
export const IOMMU_SVA_VTD_GPASID_EAFE = 1 << 1;
export const IOMMU_SVA_VTD_GPASID_PCD = 1 << 2;
export const IOMMU_SVA_VTD_GPASID_PWT = 1 << 3;
export const IOMMU_SVA_VTD_GPASID_EMTE = 1 << 4;
export const IOMMU_SVA_VTD_GPASID_CD = 1 << 5;
/** write protect enable: honoured with SRE only (DOMAIN.md §7.6) */
export const IOMMU_SVA_VTD_GPASID_WPE = 1 << 6;
/** the driver rejects any vendor.vtd flag at or above this bit */
export const IOMMU_SVA_VTD_GPASID_LAST = 1 << 7;
/** IOMMU_PASID_FORMAT_LAST: the core rejects a format at or above it */
export const IOMMU_PASID_FORMAT_LAST = 2;
/**
 * offsetof(struct iommu_gpasid_bind_data, vendor): argsz, version, format, addr_width (4 x u32), flags,
 * gpgd, hpasid, gpasid (4 x u64), padding[8]. The IOMMU core (iommu_sva_prepare_bind_data) wants at
 * least this much (DOMAIN.md §7.6).
 */
export const GPASID_BIND_DATA_VENDOR_OFFSET = 56;
/**
 * offsetofend(struct iommu_gpasid_bind_data, vendor.vtd): the VT-d part (flags u64, pat, emt u32) ends
 * the struct. intel_svm_bind_gpasid wants at least this much, and QEMU fills argsz with it.
 */
export const GPASID_BIND_DATA_MINSZ = 72;
export interface GpasidBindData {
  argsz: number;
  version: number;
  format: number;
  flags: number;
  gpgd: number;
  hpasid: number;
  gpasid: number;
  addr_width: number;
  vendor: { vtd: { flags: number; pat: number; emt: number } };
}

/** struct iommu_cache_invalidate_info */
export const IOMMU_CACHE_INVALIDATE_INFO_VERSION_1 = 1;
export const IOMMU_CACHE_INV_TYPE_IOTLB = 1 << 0;
export const IOMMU_CACHE_INV_TYPE_DEV_IOTLB = 1 << 1;
export const IOMMU_CACHE_INV_TYPE_PASID = 1 << 2;
export const IOMMU_INV_GRANU_DOMAIN = 0;
export const IOMMU_INV_GRANU_PASID = 1;
export const IOMMU_INV_GRANU_ADDR = 2;
export const IOMMU_INV_ADDR_FLAGS_PASID = 1 << 0;
export const IOMMU_INV_ADDR_FLAGS_ARCHID = 1 << 1;
export const IOMMU_INV_ADDR_FLAGS_LEAF = 1 << 2;
export const IOMMU_INV_PASID_FLAGS_PASID = 1 << 0;
export const IOMMU_INV_PASID_FLAGS_ARCHID = 1 << 1;
export interface CacheInvalidateInfo {
  argsz: number;
  version: number;
  cache: number;
  granularity: number;
  pasid_info?: { flags: number; pasid: number; archid?: number };
  addr_info?: { flags: number; pasid: number; addr: number; granule_size: number; nb_granules: number };
}

/** PASID-entry PGTT values (VT-d 3.x) */
export const PGTT_FL_ONLY = 1;
export const PGTT_SL_ONLY = 2;
export const PGTT_NESTED = 3;
export const PGTT_PT = 4;

/**
 * struct iommu_cache_invalidate_info: argsz, version (u32), cache, granularity (u8), padding[6], then the
 * granu union. iommu_uapi_cache_invalidate wants argsz >= offsetof(granu) = 16, and the end of the
 * union member the granularity reads: offsetofend(granu.pasid_info) = 32 (flags, archid u32, pasid
 * u64), offsetofend(granu.addr_info) = 56 (flags, archid u32, pasid, addr, granule_size, nb_granules
 * u64) (DOMAIN.md §7.6).
 */
export const CACHE_INVALIDATE_INFO_GRANU_OFFSET = 16;
export const CACHE_INVALIDATE_INFO_PASID_INFO_END = 32;
export const CACHE_INVALIDATE_INFO_ADDR_INFO_END = 56;
/** what QEMU fills argsz with: the whole version-1 struct (the union's largest member ends it) */
export const CACHE_INVALIDATE_INFO_MINSZ = CACHE_INVALIDATE_INFO_ADDR_INFO_END;
/** offsetofend(struct vfio_iommu_type1_nesting_op, flags) */
export const NESTING_OP_MINSZ = 8;
export const IOMMU_CACHE_INV_TYPE_NR = 3;

/** PASID-entry PGTT values accepted by QEMU's vtd_pasid_cache_sync for a bind (FL or PT) */
export const PASID_ENTRY_PGTTS = [PGTT_FL_ONLY, PGTT_SL_ONLY, PGTT_NESTED, PGTT_PT] as const;

/** QI descriptor types (VT-d 3.x 6.5.2) */
export const QI_TYPE = { CC: 1, IOTLB: 2, DIOTLB: 3, IEC: 4, IWD: 5, EIOTLB: 6, PC: 7, DEIOTLB: 8, PGRP_RESP: 9, PSTRM_RESP: 0xa } as const;
export const QI_GRAN_NONG_PASID = 2;
export const QI_GRAN_PSI_PASID = 3;
/** page group response codes */
export const QI_RESP_SUCCESS = 0;
export const QI_RESP_INVALID = 1;
export const QI_RESP_FAILURE = 0xf;

/** scalable-mode fault reasons (QEMU's VTDFaultReason) */
export const FAULT_REASON = {
  PASID_DIR_ACCESS: 0x50, PASID_DIR_P: 0x51, PASID_TABLE_ACCESS: 0x58, PASID_ENTRY_P: 0x59, PASID_ENTRY_INV: 0x5b,
  FS_ACCESS: 0x70, FS_ENTRY_P: 0x71, FS_NON_CANONICAL: 0x80,
  /** second-stage fault during a nested walk [M: code] */
  SS_ENTRY_P: 0x7, WRITE: 5, READ: 6,
} as const;

/** struct page_req_dsc, the fields the model carries */
export interface PageRequest {
  rid: string;
  pasid_present: boolean;
  pasid: number;
  addr: number;
  rd_req: boolean;
  wr_req: boolean;
  exe_req: boolean;
  pm_req: boolean;
  lpig: boolean;
  prg_index: number;
  priv_data_present: boolean;
}

/** struct iommu_page_response (what the guest answers a reported page request with) */
export const IOMMU_PAGE_RESP_PASID_VALID = 1 << 0;
export const IOMMU_PAGE_RESP_SUCCESS = 0;
export const IOMMU_PAGE_RESP_INVALID = 1;
export const IOMMU_PAGE_RESP_FAILURE = 2;
export interface PageResponse {
  argsz: number;
  version: number;
  flags: number;
  pasid: number;
  grpid: number;
  code: number;
}

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
