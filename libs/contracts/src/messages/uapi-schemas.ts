import { z } from 'zod';
import type { PageRequest, PageResponse } from '../uapi.js';

/** struct page_req_dsc as a device sends it (libs/contracts uapi.ts PageRequest). */
export const PageRequestSchema = z.object({
  rid: z.string(), pasid_present: z.boolean(), pasid: z.number().int(), addr: z.number(), rd_req: z.boolean(), wr_req: z.boolean(),
  exe_req: z.boolean(), pm_req: z.boolean(), lpig: z.boolean(), prg_index: z.number().int(), priv_data_present: z.boolean(),
}) satisfies z.ZodType<PageRequest>;

/**
 * struct iommu_page_response as the guest's VMM hands it over: user-supplied, so only its shape is
 * checked here; the driver checks its fields (version, flags, the pending fault) and answers an errno.
 */
export const PageResponseSchema = z.object({
  argsz: z.number(), version: z.number(), flags: z.number(), pasid: z.number(), grpid: z.number(), code: z.number(),
}) satisfies z.ZodType<PageResponse>;
