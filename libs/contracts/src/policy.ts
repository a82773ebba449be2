import { z } from 'zod';

/**
 * Behaviour that differs between kernel or patch versions is a named policy (DESIGN.md §2.6).
 * Presets group policy values: v1..v8 are the vSVA series revisions, `mainline` is what merged.
 */
export const PRESETS = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'mainline'] as const;
export type Preset = (typeof PRESETS)[number];

/**
 * The host kernel each preset runs on (DOMAIN.md §7.1): a series revision was posted on a base tree, and
 * that tree's VT-d driver, not only the VFIO patch, decides what the host does (a NULL device is an oops
 * on a v5.6-v5.8 host and a WARN on v5.9+, §7.2). [M]: the base tree is from memory, not re-read.
 */
export const PRESET_KERNELS: Record<Preset, { kernel: string; source: string }> = {
  v1: { kernel: 'v5.6-based, with the nested VT-d series (merged in v5.8)', source: 'posted 22 Mar 2020, reviewed on 2 Apr 2020 [M]' },
  v2: { kernel: 'v5.7-based, with the nested VT-d series', source: 'posted Jun 2020, before v5.8-rc1 [M]' },
  v3: { kernel: 'v5.8-rc-based', source: 'posted Jun 2020 [M]' },
  v4: { kernel: 'v5.8-rc-based', source: 'posted Jul 2020 [M]' },
  v5: { kernel: 'v5.8-rc-based', source: 'posted Jul 2020 [M]' },
  v6: { kernel: 'v5.8-rc-based', source: 'posted Jul 2020 [M]' },
  v7: { kernel: 'v5.9-rc2 (luxis1999/linux-vsva)', source: 'the v7 cover letter; DOMAIN.md §7.1 [V]' },
  v8: { kernel: 'the v5.9-rc2-based development tree with the v5.10 VT-d fixes (sid, PDP)', source: 'DOMAIN.md §7.11 (v7/v8 tree) [V]; the fixes it carries [M]' },
  mainline: { kernel: 'VT-d as merged, v5.8-v5.15 with its later fixes (svm.c ~v5.16); VFIO from the iommufd successor', source: 'DOMAIN.md §7 [V]' },
};

export type PolicyValue = boolean | string | number;

export interface PolicyDef<V extends PolicyValue = PolicyValue> {
  /** what the knob models, in a reviewer's words */
  description: string;
  /** where the behaviour comes from (patch, commit, review message) */
  source: string;
  /** where it moves in the kernel's history (the host kernel's version, or the series revision for VFIO's half) */
  kernel: string;
  /** allowed values, for validating --set */
  schema: z.ZodType<V>;
  /** value in each preset */
  presets: Record<Preset, V>;
}

const allPresets = <V extends PolicyValue>(v: V, except: Partial<Record<Preset, V>> = {}): Record<Preset, V> =>
  Object.fromEntries(PRESETS.map((p) => [p, p in except ? except[p]! : v])) as Record<Preset, V>;

/** A behaviour that changed once: `before` in the presets older than `first`, `after` from `first` on. */
const since = <V extends PolicyValue>(first: Preset, before: V, after: V): Record<Preset, V> =>
  Object.fromEntries(PRESETS.map((p) => [p, PRESETS.indexOf(p) < PRESETS.indexOf(first) ? before : after])) as Record<Preset, V>;

export const POLICIES = {
  'vfio.iommu_device_null_check': {
    description:
      'VFIO checks the IOMMU device resolved for an mdev (vfio_mdev_get_iommu_device) for NULL before bind, unbind and cache invalidate, and returns -EINVAL; without it a NULL device reaches the IOMMU layer',
    source: 'vSVA v1 8/8 passed it unchecked; Alex Williamson review 2 Apr 2020; v2+ vfio_get_iommu_device() returns -EINVAL',
    kernel: 'VFIO half (never merged): series v1 → v2',
    schema: z.boolean(),
    presets: since('v2', false, true),
  } satisfies PolicyDef<boolean>,
  'vfio.pasid_alloc_fail_errno': {
    description:
      'errno VFIO_IOMMU_PASID_REQUEST returns when the allocation fails (quota or range exhausted): v1 turned every failure into -EFAULT',
    source: 'vSVA v1 vfio_pasid_alloc; v2+ return -ENOSPC from ioasid_alloc/quota',
    kernel: 'VFIO half: series v1 → v2',
    schema: z.enum(['ENOSPC', 'EFAULT']),
    presets: since<'ENOSPC' | 'EFAULT'>('v2', 'EFAULT', 'ENOSPC'),
  } satisfies PolicyDef<'ENOSPC' | 'EFAULT'>,
  'vfio.no_vmm_errno': {
    description:
      'errno of VFIO_IOMMU_PASID_REQUEST on a container with no vfio_mm (not nesting, or only an external domain): v1 -EFAULT; v2/v3 the kernel-internal -ENOTSUPP (524, bug #14); from v4 the standard -EOPNOTSUPP',
    source:
      'v1 vfio_iommu_type1_pasid_alloc [V]; v2 06/15 and v3 06/14 vfio_iommu_type1_pasid_alloc/free return -ENOTSUPP [V]; v4 07/15 -EOPNOTSUPP [V]; v6/v7 vfio_iommu_type1_pasid_request -EOPNOTSUPP (DOMAIN.md §7.5) [V]; v5 and v8 as their neighbours [M]; mainline takes v8 (iommufd has no PASID_REQUEST)',
    kernel: 'VFIO half: v1, v2/v3 (524), v4 on',
    schema: z.enum(['EFAULT', 'EINVAL', 'ENOTSUPP', 'EOPNOTSUPP']),
    presets: allPresets<'EFAULT' | 'EINVAL' | 'ENOTSUPP' | 'EOPNOTSUPP'>('EOPNOTSUPP', { v1: 'EFAULT', v2: 'ENOTSUPP', v3: 'ENOTSUPP' }),
  } satisfies PolicyDef<'EFAULT' | 'EINVAL' | 'ENOTSUPP' | 'EOPNOTSUPP'>,
  'vfio.cache_invld_errors': {
    description:
      'what CACHE_INVLD does when one device of the container fails: v1 stops and returns the first error; v2-v8 ignore per-device errors and return 0 (bug #3: success while a device kept stale entries); mainline takes the iommufd successor (stop at the first failure, return it, report how many were processed)',
    source: 'v1 7/8 and Alex Williamson (20200402142428.2901432e@w520.home); v2+ vfio_cache_inv_fn; iommufd IOMMU_HWPT_INVALIDATE entry_num',
    kernel: 'VFIO half: series v1 → v2; mainline from iommufd (IOMMU_HWPT_INVALIDATE)',
    schema: z.enum(['stop', 'ignore', 'report']),
    presets: allPresets<'stop' | 'ignore' | 'report'>('ignore', { v1: 'stop', mainline: 'report' }),
  } satisfies PolicyDef<'stop' | 'ignore' | 'report'>,
  'vtd.bind_checks_pasid_ownership': {
    description: 'intel_svm_bind_gpasid checks that the host PASID belongs to the domain\'s IOASID set (ioasid_find): -ENOENT if unallocated, -EACCES if another VM owns it',
    source: 'vSVA v7 09/16 "Check ownership for guest PASID" [V]; the cover letter changelog puts the check at v1 → v2 (DOMAIN.md §7.1) [V]',
    kernel: 'series v1 → v2 (the cover letter changelog, DOMAIN.md §7.1)',
    schema: z.boolean(),
    presets: since('v2', false, true),
  } satisfies PolicyDef<boolean>,
  'vfio.singleton_nesting_container': {
    description: 'a nesting container accepts one group only: attaching a second group returns -EINVAL',
    source: 'the answer to the partial-bind review on v1 6/8; the cover letter changelog puts it at v1 → v2 (DOMAIN.md §7.1) [V]',
    kernel: 'VFIO half: series v1 → v2 (the cover letter changelog, DOMAIN.md §7.1)',
    schema: z.boolean(),
    presets: since('v2', false, true),
  } satisfies PolicyDef<boolean>,
  'vfio.pasid_quota': {
    description: 'per-vfio_mm PASID quota (module parameter pasid_quota, VFIO_DEFAULT_PASID_QUOTA); the host PASID space is shared by every VM and host SVA (bug #13)',
    source: 'vfio_pasid.c',
    kernel: 'VFIO half: vfio_pasid.c, every revision',
    schema: z.number().int().positive(),
    presets: allPresets(1000),
  } satisfies PolicyDef<number>,
  'vfio.bind_unwind': {
    description:
      'how BIND_PGTBL undoes a bind that failed on some device, and what the unbind function does with an error. v1 (for_each_dev): a second vfio_iommu_for_each_dev walk of unbinds over every device, stopping at the first error (UNBIND_PGTBL returns that error). v2-v8 (every_dev): handle_pgtbl_op runs iommu_group_for_each_dev(group, vfio_dev_unbind_gpasid_fn) over every device of the group; the unbind function returns 0 whatever the IOMMU answers, so the walk goes on and UNBIND_PGTBL always returns 0 (a NULL IOMMU device: -EINVAL from the function, which stops the walk, still 0). Both tear down a binding this call did not make, e.g. the one that made it fail with -EBUSY (bug #2). mainline (bound_only): the iommufd successor attaches device by device and undoes only its own',
    source:
      'v1 6/8 and Alex Williamson (20200402135700.0da30021@w520.home) [V]; v2 10/15, v3 09/14, v6 10/15, v7 10/16 handle_pgtbl_op: unbind every device of the group when the bind failed, and for UNBIND (DOMAIN.md §7.3) [V]; NULL -> -EINVAL in vfio_dev_unbind_gpasid_fn from v3 (v2 12/15 returned 0 and went on: not told apart here) [V]; v4/v5/v8 as their neighbours [M]; mainline: iommufd per-device attach [M]',
    kernel: 'VFIO half: v1, v2-v8; mainline from iommufd',
    schema: z.enum(['for_each_dev', 'every_dev', 'bound_only']),
    presets: allPresets<'for_each_dev' | 'every_dev' | 'bound_only'>('every_dev', { v1: 'for_each_dev', mainline: 'bound_only' }),
  } satisfies PolicyDef<'for_each_dev' | 'every_dev' | 'bound_only'>,
  'vfio.no_nesting_info_errno': {
    description:
      'errno of VFIO_IOMMU_NESTING_OP (BIND_PGTBL / UNBIND_PGTBL in vfio_iommu_handle_pgtbl_op, CACHE_INVLD) on a container without nesting_info (type1v2, or an external domain only): v2/v3 the kernel-internal -ENOTSUPP (524, bug #14), later the standard -EOPNOTSUPP',
    source:
      'v2 10/15 and v3 09/14 handle_pgtbl_op, v3 10/14 vfio_iommu_invalidate_cache return -ENOTSUPP (DOMAIN.md §7.5) [V]; v5 10/15 and v7 10/16 -EOPNOTSUPP [V]; v4 [M]; v1 had no nesting_info (its BIND_GPASID checked IS_IOMMU_CAP_DOMAIN_IN_CONTAINER): -EOPNOTSUPP stands in [M]',
    kernel: 'VFIO half: v2/v3 (524), v4 on',
    schema: z.enum(['ENOTSUPP', 'EOPNOTSUPP']),
    presets: allPresets<'ENOTSUPP' | 'EOPNOTSUPP'>('EOPNOTSUPP', { v2: 'ENOTSUPP', v3: 'ENOTSUPP' }),
  } satisfies PolicyDef<'ENOTSUPP' | 'EOPNOTSUPP'>,
  'vfio.pasid_request_31bit': {
    description:
      'VFIO_IOMMU_PASID_REQUEST refuses range.min or range.max above 1 << VFIO_IOMMU_PASID_BITS (31: the PASID comes back in a signed int) with -EINVAL, before the vfio_mm check',
    source: 'v7 07/16 vfio_iommu_type1_pasid_request (DOMAIN.md §7.5) [V]; absent in v6 07/15 [V]; v8 and mainline as v7 [M]',
    kernel: 'VFIO half: v7 on',
    schema: z.boolean(),
    presets: since('v7', false, true),
  } satisfies PolicyDef<boolean>,
  'iommu.core_rejects_invalid_granu': {
    description:
      'iommu_check_cache_invl_data (the IOMMU core, before the driver) refuses ADDR granularity with the PASID cache and DOMAIN granularity with DEV_IOTLB: -EINVAL; without it they reach intel_iommu_sva_invalidate, whose map rejects them with ret 0 (bug #5)',
    source: 'iommu_check_cache_invl_data, v5.10 core (DOMAIN.md §7.6) [V]; v7/v8 are v5.9-based, so mainline only',
    kernel: 'v5.10 (mainline only)',
    schema: z.boolean(),
    presets: since('mainline', false, true),
  } satisfies PolicyDef<boolean>,
  'vtd.aux_shared_gpasid_bind': {
    description:
      'intel_svm_bind_gpasid on a (dev, PASID) already bound through another aux domain of the same parent: "users" counts the binds (users++, one PASID entry, the first domain\'s second-level table) or the bind fails with -EBUSY (bug #6)',
    source: 'd315e9e684d1 (-EBUSY) [V]; the revisions before it [M]',
    kernel: 'd315e9e684d1, in v5.9-rc2 (v7 on, DOMAIN.md §7.1)',
    schema: z.enum(['users', 'EBUSY']),
    presets: since<'users' | 'EBUSY'>('v7', 'users', 'EBUSY'),
  } satisfies PolicyDef<'users' | 'EBUSY'>,
  'vtd.unsupported_inval': {
    description:
      'what intel_iommu_sva_invalidate returns for a cache type x granularity it rejects (any PASID-cache request, DEV_IOTLB other than ADDR, IOTLB DOMAIN): the loop breaks with ret = 0, success (bug #5), or -EINVAL',
    source: 'intel_iommu_sva_invalidate (v5.8-v5.15) [V]; Kevin Tian on V10 08/11 (28 Mar 2020); every preset keeps the quirk, the fix is an override',
    kernel: 'intel_iommu_sva_invalidate, v5.8-v5.15 (no host kernel changed it)',
    schema: z.enum(['success', 'EINVAL']),
    presets: allPresets<'success' | 'EINVAL'>('success'),
  } satisfies PolicyDef<'success' | 'EINVAL'>,
  'vtd.devtlb_pasid_full_range': {
    description:
      'a PASID-granular devTLB flush (PASID granularity, or the fall-through from a PASID-selective IOTLB flush with ATS) uses addr 0 and S=1 (the whole range), not the addr/size of the user\'s request (bug #9)',
    source: '"iommu/vt-d: Fix devTLB flush for vSVA" (Fixes 6ee1b77ba3ac) [V]; v5.9-rc2, the v7 base, has it (DOMAIN.md §7.1) [V]',
    kernel: 'Fix devTLB flush for vSVA, in v5.9-rc2 (v7 on, DOMAIN.md §7.1)',
    schema: z.boolean(),
    presets: since('v7', false, true),
  } satisfies PolicyDef<boolean>,
  'vtd.bind_sets_sdev_sid': {
    description: 'intel_svm_bind_gpasid sets sdev->sid to the device\'s requester id; without it prq_event_thread never matches sdev->sid == req->rid, so the device\'s page requests find no sdev (bug #7); the devTLB flushes take the sid from device_domain_info, not from sdev, and are not affected',
    source: '"iommu/vt-d: Fix sid not set issue in intel_svm_bind_gpasid()" (v5.10) [V]',
    kernel: 'v5.10 (v8 on)',
    schema: z.boolean(),
    presets: since('v8', false, true),
  } satisfies PolicyDef<boolean>,
  'vtd.prq_respond_on_pdp': {
    description: 'prq_event_thread answers a bad page request when LPIG or PDP is set; the bug checked LPIG only, so a PDP request got no response (bug #8)',
    source: '"iommu/vt-d: Fix a bug for PDP check in prq_event_thread" (v5.10) [V]',
    kernel: 'v5.10 (v8 on)',
    schema: z.boolean(),
    presets: since('v8', false, true),
  } satisfies PolicyDef<boolean>,
  'vtd.prq_report_guest': {
    description:
      'prq_event_thread reports a page request of a guest-mode svm to the guest (iommu_report_device_fault, DOMAIN.md §2.6). false: the v5.9-based thread of the v7/v8 tree (§7.11): no or unknown PASID is answered QI_RESP_FAILURE (0xf); a guest-mode svm has no mm (v7 06/16 dropped svm->mm = get_task_mm()), so `if (!svm->mm) goto bad_req` answers INVALID before the report (a missing sdev only WARNs there): the guest never sees a page request. true: the ~v5.13+ thread: bad requests (no PASID, non-canonical, privileged or exec+read, unknown PASID, no sdev) answered INVALID, the rest reported. Either way bad_req responds only on LPIG, or PDP with vtd.prq_respond_on_pdp',
    source:
      'prq_event_thread in luxis1999/linux-vsva svm.c @031c5ee2 (v5.9-rc2 base) [V]; mainline ~v5.16 svm.c [V]; v1-v6 (v5.7/v5.8 hosts) take the v7 path [M]: DOMAIN.md says nothing of their thread; the guest report (intel_svm_prq_report) came with v5.9 and v5.8\'s bind still set svm->mm to the VMM\'s mm [M], so the guest never saw the request there either',
    schema: z.boolean(),
    kernel: 'the v5.9-base thread (v7/v8 tree): never reported; ~v5.13: reported (mainline)',
    presets: since('mainline', false, true),
  } satisfies PolicyDef<boolean>,
  'vtd.drain_prq': {
    description:
      'unbind (and free) drains the page-request queue for the PASID after the entry is cleared and the caches flushed: wait for the PRQ thread, then [wait(FENCE), PIOTLB, devTLB] with WAIT_DRAIN (bug #10). The same commit made prq_event_thread clear PRS_REG.PRO after each pass; without it a PRQ overflow shuts the queue for good (every later page request dropped by the hardware)',
    source: '66ac4db36f4c "iommu/vt-d: Add page request draining support" (v5.8) [V]; series revisions before it [M]',
    kernel: '66ac4db36f4c, v5.8-rc1 (v3 on)',
    schema: z.boolean(),
    presets: since('v3', false, true),
  } satisfies PolicyDef<boolean>,
  'vfio.pasid_free_unbinds': {
    description:
      'VFIO_IOMMU_PASID_REQUEST(FREE) of a PASID that is still bound first tears it down (IOASID notifier -> intel_svm_free_async_fn: unbind, drain, drop) before the PASID leaves the set; without it the PASID is freed while bound (bug #11)',
    source: 'vmm->pasid_lock (v2+); IOASID notifier + free_async_fn (dev tree) [V]; the revision it reached [M]',
    kernel: 'the development tree IOASID notifier (v8 on)',
    schema: z.boolean(),
    presets: since('v8', false, true),
  } satisfies PolicyDef<boolean>,
  'vtd.fpd_on_teardown': {
    description:
      'what if intel_svm_unbind_gpasid passed fault_ignore = true to intel_pasid_tear_down_entry: FPD set in the cleared entry, so DMA still in flight makes no non-recoverable fault records (bug #15). No kernel does it on the gPASID path: unbind_gpasid passes false in every revision (DOMAIN.md §7.10), so every preset is false and true is an override',
    source:
      'intel_svm_unbind_gpasid: intel_pasid_tear_down_entry(..., false) (luxis1999/linux-vsva svm.c @031c5ee2, v5.9-rc2 base; mainline ~v5.16) [V]; "iommu/vt-d: Disable non-recoverable fault processing before unbind" is for native SVA: there only intel_mm_release (the process exiting before its driver unbinds) passes true [V]; the dev tree\'s intel_svm_free_async_fn (free before unbind) passes true too [V], which the model, routing that free through unbind_gpasid, does not show',
    kernel: 'no kernel: unbind_gpasid passes false in every revision (an override only)',
    schema: z.boolean(),
    presets: allPresets(false),
  } satisfies PolicyDef<boolean>,
  'vtd.devtlb_skip_absent': {
    description:
      'a devTLB invalidation to a device that is gone (surprise removal) is skipped instead of waiting: without it the ITE aborts the wait and qi_submit_sync retries forever (bug #16)',
    source: '80a9b50c0b9e, 4fc82cd907ac (v6.9) [V]',
    kernel: 'v6.9 (80a9b50c0b9e, 4fc82cd907ac): mainline only',
    schema: z.boolean(),
    presets: since('mainline', false, true),
  } satisfies PolicyDef<boolean>,
  'vtd.kernel_log': {
    description:
      'which VT-d driver\'s wording the host\'s kernel log takes where the kernels differ. v5.10 (the v1-v8 base trees): dmar_fault_do_one prints "[DMA Read] Request device [bb:dd.f] PASID %x fault addr %llx [fault reason %02d] <reason>"; qi_check_fault clears an ITE and prints nothing; prq_event_thread clears PRQ overflow without a word. v5.15: "[DMA Read PASID 0x%x] Request device [bb:dd.f] fault addr 0x%llx [fault reason 0x%02x] <reason>"; qi_dump_fault prints "VT-d detected Invalidation Time-out Error: SID %llx" and qi_check_fault "Invalidation Time-out Error (ITE) cleared"; prq_event_thread prints "PRQ overflow detected" and "PRQ overflow cleared" (28a77185f1cd). Either way dmar_fault prints "DRHD: handling fault status reg %x" first, all of it under one printk ratelimit (10 lines a burst)',
    source:
      'drivers/iommu/intel/dmar.c of v5.10.13 (Rtoax/linux-5.10.13) and of v5.15.85 (Tptogiar/linux-5.15.85), dmar_fault, dmar_fault_do_one, qi_check_fault, qi_dump_fault [V]; svm.c prq_event_thread, 28a77185f1cd "iommu/vt-d: Clear PRQ overflow only when PRQ is empty" (v5.12-rc1, AUTOSEL 5.11) [V]; the v5.6-v5.9 bases of v1-v7 print as v5.10 does [M]',
    kernel: 'v5.10 wording (v1-v8); v5.12-v5.15 wording (mainline)',
    schema: z.enum(['v5.10', 'v5.15']),
    presets: since<'v5.10' | 'v5.15'>('mainline', 'v5.10', 'v5.15'),
  } satisfies PolicyDef<'v5.10' | 'v5.15'>,
  'vfio.mixed_group': {
    description:
      'attach_group of an mdev group that mixes IOMMU-backed and non-IOMMU devices, or parents: silently placed in external_domain (attach returns 0, NESTING_OP fails later with -EOPNOTSUPP) or rejected at attach with -EINVAL (bug #18)',
    source: 'vfio_iommu_type1_attach_group [V]; the loud failure is the review\'s ask (no revision did it)',
    kernel: 'VFIO half: no revision; the review ask',
    schema: z.enum(['external_domain', 'EINVAL']),
    presets: since<'external_domain' | 'EINVAL'>('mainline', 'external_domain', 'EINVAL'),
  } satisfies PolicyDef<'external_domain' | 'EINVAL'>,
  'vtd.psi_misaligned': {
    description: 'a page-selective (ADDR) invalidation whose address is not aligned to its size: -ERANGE (v5.8) or a pr_err and the flush goes on',
    source: 'intel_iommu_sva_invalidate v5.8 [V]; 1ff00279655d made it a pr_err, in v5.9-rc2 (the v7 base) and 5.8.y (DOMAIN.md §7.1) [V]',
    kernel: 'v5.8: -ERANGE; 1ff00279655d (v5.9-rc2, and 5.8.y): a pr_err (v7 on, DOMAIN.md §7.1)',
    schema: z.enum(['ERANGE', 'warn']),
    presets: since<'ERANGE' | 'warn'>('v7', 'ERANGE', 'warn'),
  } satisfies PolicyDef<'ERANGE' | 'warn'>,
  'mdev.unpin_on_dma_unmap': {
    description: 'the non-IOMMU vendor driver unpins the pages of a range when its VFIO_IOMMU_NOTIFY_DMA_UNMAP notifier fires; without it VFIO retries and hits BUG_ON(++retries > 10) (bug #17)',
    source: 'vfio_iommu_type1 unmap notify/retry [V]; a vendor-driver bug, no revision of the series (fixed is the default)',
    kernel: 'a vendor driver, not a kernel version',
    schema: z.boolean(),
    presets: allPresets(true),
  } satisfies PolicyDef<boolean>,
  'vtd.null_device': {
    description:
      'what intel_svm_bind_gpasid and intel_svm_unbind_gpasid do with a NULL device: the v5.6-v5.8 intel_svm_device_to_iommu dereferences it (an oops); the v5.9 device_to_iommu returns NULL for it, and WARN_ON(!iommu) prints a warning and returns -EINVAL (bug #1 on each host)',
    source: 'device_to_iommu() "if (!dev) return NULL" in v5.9 [V]; intel_svm_device_to_iommu -> iommu_dummy(dev) in v5.6-v5.8 [V] (DOMAIN.md §7.2)',
    kernel: 'v5.6-v5.8: oops; v5.9-rc2 on: WARN and -EINVAL (v7 on)',
    schema: z.enum(['oops', 'WARN']),
    presets: since<'oops' | 'WARN'>('v7', 'oops', 'WARN'),
  } satisfies PolicyDef<'oops' | 'WARN'>,
  'vtd.sdev_iommu_before_alloc': {
    description: 'the development tree assigned sdev->iommu = iommu in the !svm branch of intel_svm_bind_gpasid while sdev was still NULL: the first bind of a PASID dereferences NULL (bug #19)',
    source: 'luxis1999/linux-vsva drivers/iommu/intel/svm.c @031c5ee2 [V]; never in a posted revision or mainline, so only an override turns it on',
    kernel: 'the development tree @031c5ee2 only',
    schema: z.boolean(),
    presets: allPresets(false),
  } satisfies PolicyDef<boolean>,
} as const;

export type PolicyName = keyof typeof POLICIES;
export type PolicyValues = { [K in PolicyName]: (typeof POLICIES)[K]['presets']['v1'] };

export interface ResolvedPolicy {
  preset: Preset;
  overrides: Partial<Record<PolicyName, PolicyValue>>;
  values: PolicyValues;
}

export class PolicyError extends Error {}

export function isPreset(s: string): s is Preset {
  return (PRESETS as readonly string[]).includes(s);
}

/** Parses a `--set k=v` value: booleans and numbers as such, else the string. */
function parseValue(raw: string): PolicyValue {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+$/.test(raw)) return Number(raw);
  return raw;
}

export function resolvePolicy(preset: string, sets: Record<string, string | PolicyValue> = {}): ResolvedPolicy {
  if (!isPreset(preset)) {
    throw new PolicyError(`unknown policy preset '${preset}': choose one of ${PRESETS.join(', ')}`);
  }
  const values = Object.fromEntries(
    Object.entries(POLICIES).map(([k, def]) => [k, def.presets[preset]]),
  ) as PolicyValues;
  const overrides: ResolvedPolicy['overrides'] = {};
  for (const [key, raw] of Object.entries(sets)) {
    if (!(key in POLICIES)) {
      throw new PolicyError(`unknown policy '${key}' in --set: known policies are ${Object.keys(POLICIES).join(', ')}`);
    }
    const def = POLICIES[key as PolicyName] as PolicyDef;
    const parsed = def.schema.safeParse(typeof raw === 'string' ? parseValue(raw) : raw);
    if (!parsed.success) {
      throw new PolicyError(`bad value '${String(raw)}' for policy '${key}': ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
    (values as Record<string, PolicyValue>)[key] = parsed.data;
    overrides[key as PolicyName] = parsed.data;
  }
  return { preset, overrides, values };
}
