/**
 * The uAPI of the vSVA series (v7) as the simulator carries it: ioctl payloads keep the kernel's
 * field names. Sizes are the kernel's `minsz` (offsetofend of the last mandatory field).
 */

/** struct vfio_iommu_type1_pasid_request */
export const VFIO_IOMMU_FLAG_ALLOC_PASID = 1 << 0;
export const VFIO_IOMMU_FLAG_FREE_PASID = 1 << 1;
export const PASID_REQUEST_MINSZ = 16; // argsz, flags, range.min, range.max
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
export const IOMMU_SVA_VTD_GPASID_LAST = 1 << 6;
/** offsetofend(struct iommu_gpasid_bind_data, vendor.vtd) */
export const GPASID_BIND_DATA_MINSZ = 64;
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
