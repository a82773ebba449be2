import { z } from 'zod';
import { ERRNO, PRESETS } from '../../contracts/src/index.js';

/** A small id: letters, digits, dash, underscore; used in log entries and timelines. */
const Id = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, 'an id: a letter, then up to 31 letters, digits, - or _');
/** A number, or a `$name` bound by an earlier step's `as:`. */
const NumOrVar = z.union([z.number().int().nonnegative(), z.string().regex(/^\$[A-Za-z_]\w*$/, 'a number or a $variable bound by an earlier step')]);

/**
 * What a step is expected to return: `ok` (0 or a value), an errno name (`EINVAL`), `oops` (the host
 * crashed in the driver), or `timeout`. A map from preset to that (with `default`) when presets differ.
 */
export const OutcomeName = z.union([
  z.literal('ok'),
  z.literal('oops'),
  z.literal('timeout'),
  z.enum(Object.keys(ERRNO) as [keyof typeof ERRNO, ...Array<keyof typeof ERRNO>]),
]);
export type OutcomeName = z.infer<typeof OutcomeName>;
export const Expect = z.union([
  OutcomeName,
  z.partialRecord(z.enum([...PRESETS, 'default']), OutcomeName).refine((m) => Object.keys(m).length > 0, 'name at least one preset or default'),
]);
export type Expect = z.infer<typeof Expect>;

export const HostSchema = z
  .object({
    /** VT-d caching mode (CM): the host is itself emulated; flushes on entry setup */
    caching_mode: z.boolean().default(false),
    ecap: z
      .object({
        nest: z.boolean().default(true),
        srs: z.boolean().default(true),
        eafs: z.boolean().default(true),
        pasid: z.boolean().default(true),
        prs: z.boolean().default(true),
        pds: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** cap_5lp: 5-level first-stage paging (57-bit) */
    cap_5lp: z.boolean().default(false),
    la57: z.boolean().default(false),
  })
  .strict()
  .prefault({});

export const ParentSchema = z
  .object({
    id: Id,
    /** iommu-backed: mdev_set_iommu_device(mdev, parent) (DSA, ice SIOV); non-iommu: pin_pages (GVT-g) */
    kind: z.enum(['iommu-backed', 'non-iommu']),
    /** PCI requester id of the physical parent, e.g. "6a:01.0" */
    rid: z.string().regex(/^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, 'a PCI bus:device.function like "6a:01.0"').optional(),
    ats: z.boolean().default(true),
    pri: z.boolean().default(true),
  })
  .strict();

export const MdevSchema = z
  .object({
    id: Id,
    parent: Id,
    /** IOMMU group; by default each mdev is its own group */
    group: Id.optional(),
  })
  .strict();

export const VmSchema = z
  .object({
    id: Id,
    /** VFIO_TYPE1_NESTING_IOMMU container (else plain type1v2) */
    nesting: z.boolean().default(true),
    mdevs: z.array(MdevSchema).min(1, 'a VM needs at least one mdev'),
  })
  .strict();

const StepBase = { expect: Expect.optional(), note: z.string().optional() };
const VmRef = { vm: Id };

export const StepSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('pasid_alloc'), ...VmRef, ...StepBase, min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional(), as: z.string().regex(/^[A-Za-z_]\w*$/).optional() }).strict(),
  z.object({ op: z.literal('pasid_free'), ...VmRef, ...StepBase, pasid: NumOrVar }).strict(),
  z.object({
    op: z.literal('bind'), ...VmRef, ...StepBase,
    pasid: NumOrVar,
    /** guest first-level page-table root (a GPA) */
    gpgd: z.number().int().nonnegative(),
    addr_width: z.number().int().default(48),
    /** PGTT the guest writes: 1 first-level (the vSVA case), 4 pass-through */
    pgtt: z.number().int().min(0).max(7).default(1),
    sre: z.boolean().default(false),
    eafe: z.boolean().default(false),
  }).strict(),
  z.object({ op: z.literal('unbind'), ...VmRef, ...StepBase, pasid: NumOrVar }).strict(),
  z.object({
    op: z.literal('iotlb_invalidate'), ...VmRef, ...StepBase,
    pasid: NumOrVar,
    granularity: z.enum(['pasid', 'addr']).default('pasid'),
    addr: z.number().int().nonnegative().default(0),
    pages: z.number().int().positive().default(1),
  }).strict(),
  z.object({
    /** the parent driver drops an mdev's IOMMU device after attach (fault model, see the scenario's `models`) */
    op: z.literal('mdev_clear_iommu_device'), ...StepBase, mdev: Id,
  }).strict(),
]);
export type Step = z.infer<typeof StepSchema>;

export const ScenarioSchema = z
  .object({
    name: Id.or(z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/)),
    description: z.string().min(1),
    /** what the scenario models, in a kernel engineer's words (required for fault-model steps) */
    models: z.string().optional(),
    /** the bug-table entry it reproduces (DOMAIN.md §4) */
    bug: z
      .object({
        id: z.number().int().positive(),
        title: z.string(),
        ref: z.string(),
        invariant: z.string(),
        buggy: z.string(),
        fixed: z.string(),
      })
      .strict()
      .optional(),
    /** presets the scenario is meant to run under, with the verdict expected */
    verdicts: z.partialRecord(z.enum(PRESETS), z.enum(['pass', 'fail'])).optional(),
    host: HostSchema,
    parents: z.array(ParentSchema).min(1),
    vms: z.array(VmSchema).min(1),
    steps: z.array(StepSchema),
  })
  .strict()
  .superRefine((s, ctx) => {
    const parents = new Set(s.parents.map((p) => p.id));
    const vms = new Set<string>();
    const mdevs = new Set<string>();
    s.vms.forEach((vm, i) => {
      if (vms.has(vm.id)) ctx.addIssue({ code: 'custom', path: ['vms', i, 'id'], message: `duplicate VM id '${vm.id}'` });
      vms.add(vm.id);
      vm.mdevs.forEach((m, j) => {
        if (!parents.has(m.parent)) ctx.addIssue({ code: 'custom', path: ['vms', i, 'mdevs', j, 'parent'], message: `no parent '${m.parent}' in parents (have: ${[...parents].join(', ')})` });
        if (mdevs.has(m.id)) ctx.addIssue({ code: 'custom', path: ['vms', i, 'mdevs', j, 'id'], message: `duplicate mdev id '${m.id}'` });
        mdevs.add(m.id);
      });
    });
    s.parents.forEach((p, i) => {
      if (p.kind === 'iommu-backed' && !p.rid) ctx.addIssue({ code: 'custom', path: ['parents', i, 'rid'], message: 'an iommu-backed parent needs its PCI rid' });
    });
    const bound = new Set<string>();
    s.steps.forEach((st, i) => {
      if ('vm' in st && !vms.has(st.vm)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'vm'], message: `no VM '${st.vm}' (have: ${[...vms].join(', ')})` });
      if ('mdev' in st && !mdevs.has(st.mdev)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'mdev'], message: `no mdev '${st.mdev}'` });
      if ('pasid' in st && typeof st.pasid === 'string' && !bound.has(st.pasid.slice(1))) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'pasid'], message: `${st.pasid} is not bound by an earlier step's 'as:'` });
      }
      if (st.op === 'pasid_alloc' && st.as) bound.add(st.as);
    });
  });
export type Scenario = z.infer<typeof ScenarioSchema>;
