import { z } from 'zod';
import { CACHE_INVALIDATE_INFO_MINSZ, DEVICE_FAULTS, ERRNO, GPASID_BIND_DATA_MINSZ, PRESETS, type OutcomeName as ContractOutcome, type RunSpec } from '../../contracts/src/index.js';
import { setupProblems } from './setup-rules.js';
import { policySetProblems, runLabel } from './verdicts.js';

/** A small id: letters, digits, dash, underscore; used in log entries and timelines. */
const Id = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, 'an id: a letter, then up to 31 letters, digits, - or _');
/** A number, or a `$name` bound by an earlier step's `as:`. */
const NumOrVar = z.union([z.number().int().nonnegative(), z.string().regex(/^\$[A-Za-z_]\w*$/, 'a number or a $variable bound by an earlier step')]);

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One of several schemas, picked by the value's shape (or a message when none fits), so a mistake is
 * reported inside the form the value has (`steps[2].expect.oneOf[1]`), where zod's union would say
 * only "Invalid input" at the union.
 */
function byShape<S extends z.ZodType>(pick: (v: unknown) => S | string): z.ZodType<z.output<S>> {
  return z.unknown().transform((v, ctx) => {
    const schema = pick(v);
    if (typeof schema === 'string') {
      ctx.addIssue({ code: 'custom', message: schema });
      return z.NEVER;
    }
    const r = schema.safeParse(v);
    if (r.success) return r.data;
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path });
    return z.NEVER;
  });
}

const OUTCOMES = ['ok', 'oops', 'timeout', ...Object.keys(ERRNO)] as [ContractOutcome, ...ContractOutcome[]];
/**
 * What a step may return: `ok` (0 or a value), an errno name (`EINVAL`), `oops` (the host crashed in
 * the driver), or `timeout`.
 */
export const OutcomeName = z.enum(OUTCOMES, { error: (iss) => `'${String(iss.input)}' is not an outcome: ok, oops, timeout or an errno name (${Object.keys(ERRNO).join(', ')})` });
export type OutcomeName = z.infer<typeof OutcomeName>;
/** Any of these outcomes is as expected: `{ oneOf: [EACCES, ENOENT] }`. */
const OneOf = z.object({ oneOf: z.array(OutcomeName).min(2, 'name two or more outcomes (one is just `expect: NAME`)') }).strict();
const Expected = byShape((v) => (typeof v === 'string' ? OutcomeName : isObject(v) ? OneOf : 'an outcome or { oneOf: [...] }'));
const PRESET_KEYS = [...PRESETS, 'default'] as const;
const PresetExpect = z.partialRecord(z.enum(PRESET_KEYS), Expected).refine((m) => Object.keys(m).length > 0, 'name at least one preset or default');
/**
 * What a step is expected to return: an outcome, alternatives (`{ oneOf: [...] }`), or a map from
 * preset to either (with `default`) when presets differ.
 */
export const Expect = byShape((v) => {
  if (typeof v === 'string') return OutcomeName;
  if (!isObject(v)) return 'an outcome (ok, EINVAL, …), { oneOf: [...] } or a map from preset to those';
  if ('oneOf' in v) return OneOf;
  const bad = Object.keys(v).filter((k) => !(PRESET_KEYS as readonly string[]).includes(k));
  return bad.length ? `not a preset: ${bad.join(', ')} (a map's keys are presets, ${PRESETS.join(', ')}, and default)` : PresetExpect;
});
export type Expect = z.infer<typeof Expect>;

/** Who does a setup operation: the planner before step 0 (auto, the default) or a step of the scenario (manual). */
const SetupMode = z.enum(['auto', 'manual']).optional();

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
    /** width of the host PASID space (PASID_MAX = 1 << pasid_bits), shared by every VM and host SVA */
    pasid_bits: z.number().int().min(2).max(20).default(20),
    /** auto: the PRQ interrupt thread runs as soon as a request lands; manual: it runs on a prq_irq step or when a drain waits for it */
    prq_irq: z.enum(['auto', 'manual']).default('auto'),
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
    /** the device's PASID width (pci_max_pasids = 1 << pasid_bits); intel_svm_bind_gpasid wants 20 */
    pasid_bits: z.number().int().min(0).max(20).default(20),
    /** IOMMU_DEV_FEAT_AUX: mdevs aux-attach with a default PASID each; false: iommu_attach_device (vfio-mdev-pci) */
    aux: z.boolean().default(true),
  })
  .strict();

export const MdevSchema = z
  .object({
    id: Id,
    parent: Id,
    /** IOMMU group; by default each mdev is its own group */
    group: Id.optional(),
    /** manual: an `mdev_create` step creates it (else setup does, before step 0) */
    create: SetupMode,
    /** manual: a `vfio_attach_group` step attaches its group (say it of every mdev of the group) */
    attach: SetupMode,
  })
  .strict();

export const VmSchema = z
  .object({
    id: Id,
    /** VFIO_TYPE1_NESTING_IOMMU container (else plain type1v2) */
    nesting: z.boolean().default(true),
    mdevs: z.array(MdevSchema).min(1, 'a VM needs at least one mdev'),
    /** guest RAM in 4K pages, mapped by QEMU (VFIO_IOMMU_MAP_DMA) at GPA 0 */
    ram_pages: z.number().int().positive().max(1 << 20).default(4096),
    /** what the guest's IOMMU driver does with a reported page request: map the page and respond, or leave it pending */
    page_requests: z.enum(['respond', 'ignore']).default('respond'),
    /** manual: a `vfio_set_iommu` step sets the container's IOMMU type (its groups then attach by steps too) */
    set_iommu: SetupMode,
  })
  .strict();

const StepBase = { expect: Expect.optional(), note: z.string().optional() };
const VmRef = { vm: Id };
const Var = z.string().regex(/^[A-Za-z_]\w*$/, 'a variable name');
/** a byte address or size; JSON-safe */
const Addr = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const U32 = z.number().int().min(-(2 ** 31)).max(2 ** 32 - 1);
/** device steps may run in the background: the orchestrator sends them and goes on without waiting */
const Background = { background: z.boolean().default(false) };

export const StepSchema = z.discriminatedUnion('op', [
  // setup operations a scenario does itself, where the topology marks them manual (setup-rules.ts)
  z.object({
    /** the parent driver creates the mdev (mdev_device_create; an IOMMU-backed parent sets its IOMMU device) */
    op: z.literal('mdev_create'), ...StepBase, mdev: Id,
  }).strict(),
  z.object({
    /** VFIO_SET_IOMMU on the VM's container: VFIO_TYPE1_NESTING_IOMMU, or type1v2 for `nesting: false` */
    op: z.literal('vfio_set_iommu'), ...VmRef, ...StepBase,
  }).strict(),
  z.object({
    /**
     * QEMU's vfio_connect_container: the group (its mdevs from the topology) joins the first of the VM's
     * containers that takes it, else a new one (DOMAIN.md §7.15); with `container` (the VM's id for its
     * first, `vm1.c2` for the second QEMU opened...) VFIO_GROUP_SET_CONTAINER on that one only, whose
     * -EINVAL is then the step's answer
     */
    op: z.literal('vfio_attach_group'), ...VmRef, ...StepBase, group: Id,
    container: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}(\.c\d{1,3})?$/, 'a container: the VM\'s id, or the VM\'s id and .c2, .c3, ... for the next ones QEMU opened').optional(),
  }).strict(),
  z.object({
    op: z.literal('pasid_alloc'), ...VmRef, ...StepBase, min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional(), as: Var.optional(),
    /** VCMD ALLOC_PASID this many times (stops at the first failure); `as` binds the last PASID */
    count: z.number().int().positive().max(4096).default(1),
  }).strict(),
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
  z.object({
    /** the VMM calls VFIO_IOMMU_PASID_REQUEST itself with these fields (untrusted input) */
    op: z.literal('ioctl_pasid_request'), ...VmRef, ...StepBase,
    argsz: U32.default(16), flags: U32.default(1), min: z.number().int().default(1), max: z.number().int().default(0xfffff), as: Var.optional(),
  }).strict(),
  z.object({
    /** the VMM calls NESTING_OP(BIND_PGTBL or UNBIND_PGTBL) itself with this iommu_gpasid_bind_data */
    op: z.enum(['ioctl_bind', 'ioctl_unbind']), ...VmRef, ...StepBase,
    op_argsz: U32.default(16),
    argsz: U32.default(GPASID_BIND_DATA_MINSZ), version: U32.default(1), format: U32.default(1), flags: U32.default(1),
    gpgd: z.number().int().default(0x1000), hpasid: NumOrVar, gpasid: NumOrVar.optional(), addr_width: U32.default(48),
    vtd_flags: U32.default(0), pat: U32.default(0), emt: U32.default(0),
  }).strict(),
  z.object({
    /** the VMM calls NESTING_OP(CACHE_INVLD) itself with this iommu_cache_invalidate_info */
    op: z.literal('ioctl_invalidate'), ...VmRef, ...StepBase,
    op_argsz: U32.default(16),
    argsz: U32.default(CACHE_INVALIDATE_INFO_MINSZ), version: U32.default(1),
    /** bits: IOTLB 1, DEV_IOTLB 2, PASID 4 */
    cache: U32.default(1),
    /** DOMAIN 0, PASID 1, ADDR 2 */
    granularity: U32.default(1),
    flags: U32.default(1), pasid: NumOrVar.default(0), addr: Addr.default(0), granule_size: Addr.default(4096), nb_granules: Addr.default(1),
  }).strict(),
  z.object({
    /** the guest CPU writes a first-level PTE (va -> gpa) into the table rooted at gpgd */
    op: z.literal('guest_map'), ...VmRef, ...StepBase, gpgd: Addr, va: Addr, gpa: Addr, write: z.boolean().default(true), pages: z.number().int().positive().max(4096).default(1),
  }).strict(),
  z.object({ op: z.literal('guest_unmap'), ...VmRef, ...StepBase, gpgd: Addr, va: Addr, pages: z.number().int().positive().max(4096).default(1) }).strict(),
  z.object({
    /** the device issues a DMA tagged with (its parent's RID, pasid) at va */
    op: z.literal('dma'), ...StepBase, ...Background, mdev: Id, pasid: NumOrVar, va: Addr, write: z.boolean().default(false),
  }).strict(),
  z.object({
    /** the device issues a page request (PRI); lpig/pdp as in page_req_dsc */
    op: z.literal('page_request'), ...StepBase, ...Background, mdev: Id, pasid: NumOrVar, va: Addr,
    write: z.boolean().default(false), lpig: z.boolean().default(true), pdp: z.boolean().default(false),
    pasid_present: z.boolean().default(true), pm_req: z.boolean().default(false), exe_req: z.boolean().default(false),
    prg: z.number().int().min(0).max(511).optional(),
  }).strict(),
  z.object({ op: z.literal('prq_irq'), ...StepBase }).strict(),
  z.object({
    /** the vendor driver pins guest pages (vfio_pin_pages) for a non-IOMMU mdev's DMA */
    op: z.literal('pin_pages'), ...StepBase, mdev: Id, gpa: Addr, pages: z.number().int().positive().max(512).default(1),
  }).strict(),
  z.object({ op: z.literal('dma_unmap'), ...VmRef, ...StepBase, gpa: Addr, size: Addr }).strict(),
  z.object({ op: z.literal('vm_teardown'), ...VmRef, ...StepBase }).strict(),
  z.object({ op: z.literal('mdev_remove'), ...StepBase, mdev: Id }).strict(),
  z.object({ op: z.literal('device_remove'), ...StepBase, ...Background, parent: Id }).strict(),
  z.object({
    /**
     * fault injection on a parent: its next `count` devTLB invalidations time out (ite; the host resubmits
     * each), or the host's page request queue is full for its next `count` page requests (prq_overflow)
     */
    op: z.literal('device_fault'), ...StepBase, ...Background, parent: Id,
    fault: z.enum(DEVICE_FAULTS, { error: (iss) => `'${String(iss.input)}' is not a device fault: ${DEVICE_FAULTS.join(' or ')}` }),
    count: z.number().int().min(1).max(16).default(1),
  }).strict(),
  z.object({
    /** the device issues `count` DMA requests with a PASID the IOMMU has no entry for: non-recoverable faults */
    op: z.literal('fault_storm'), ...StepBase, ...Background, mdev: Id, count: z.number().int().min(1).max(64).default(16),
  }).strict(),
  /** wait until every background op sent so far has completed (the guest stops its devices' work queues) */
  z.object({ op: z.literal('quiesce'), ...StepBase }).strict(),
]);
export type Step = z.infer<typeof StepSchema>;

export const WorkloadSchema = z
  .object({
    mdev: Id,
    pasid: NumOrVar,
    op: z.enum(['dma', 'page_request']),
    /** first va; successive ops walk `pages` pages from it */
    va: Addr,
    pages: z.number().int().positive().max(4096).default(4),
    write: z.boolean().default(false),
    /** index of the scenario step after which it starts */
    from: z.number().int().nonnegative().default(0),
    count: z.number().int().positive().max(10_000).default(8),
  })
  .strict();

const Verdict = z.enum(['pass', 'fail']);
const VerdictMap = z.partialRecord(z.enum(PRESETS), Verdict);
/** policy name -> value, as `--set name=value` */
const PolicySetSchema = z.record(z.string(), z.union([z.boolean(), z.number(), z.string()]));
export const VerdictRunSchema = z
  .object({
    preset: z.enum(PRESETS),
    /** policy overrides on top of the preset */
    set: PolicySetSchema.optional(),
    verdict: Verdict,
  })
  .strict();

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
        buggy: z.enum(PRESETS),
        fixed: z.enum(PRESETS),
        /** policy overrides on top of the buggy / fixed preset (policy name -> value) */
        buggySet: PolicySetSchema.optional(),
        fixedSet: PolicySetSchema.optional(),
      })
      .strict()
      .optional(),
    /**
     * the runs the scenario is meant for, with the verdict expected: a map from preset
     * (`{ v1: fail, v2: pass }`), or a list of runs, each a preset with policy overrides
     * (`[{ preset: v7, set: { vfio.singleton_nesting_container: false }, verdict: fail }]`)
     */
    verdicts: byShape((v) => (Array.isArray(v) ? z.array(VerdictRunSchema).min(1, 'name at least one run') : VerdictMap)).optional(),
    host: HostSchema,
    parents: z.array(ParentSchema).min(1),
    vms: z.array(VmSchema).min(1),
    steps: z.array(StepSchema),
    /** background device activity: each entry issues one op after each scenario step from `from`, `count` times */
    workload: z.array(WorkloadSchema).default([]),
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
      if ('parent' in st && !parents.has(st.parent)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'parent'], message: `no parent '${st.parent}'` });
      if ('hpasid' in st && typeof st.hpasid === 'string' && !bound.has(st.hpasid.slice(1))) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'hpasid'], message: `${st.hpasid} is not bound by an earlier step's 'as:'` });
      }
      if ((st.op === 'pasid_alloc' || st.op === 'ioctl_pasid_request') && st.as) bound.add(st.as);
    });
    s.workload.forEach((w, i) => {
      if (!mdevs.has(w.mdev)) ctx.addIssue({ code: 'custom', path: ['workload', i, 'mdev'], message: `no mdev '${w.mdev}'` });
      if (typeof w.pasid === 'string' && !bound.has(w.pasid.slice(1))) ctx.addIssue({ code: 'custom', path: ['workload', i, 'pasid'], message: `${w.pasid} is not bound by a step's 'as:'` });
      if (w.from > s.steps.length) ctx.addIssue({ code: 'custom', path: ['workload', i, 'from'], message: `from ${w.from} is past the last step (${s.steps.length})` });
    });
    for (const p of setupProblems(s)) ctx.addIssue({ code: 'custom', ...p });
    if (s.bug) {
      for (const [k, preset] of [['buggySet', s.bug.buggy], ['fixedSet', s.bug.fixed]] as const) {
        for (const p of policySetProblems(preset, s.bug[k] ?? {})) ctx.addIssue({ code: 'custom', path: ['bug', k, p.name], message: p.message });
      }
    }
    if (Array.isArray(s.verdicts)) {
      const seen = new Map<string, number>();
      s.verdicts.forEach((r, i) => {
        for (const p of policySetProblems(r.preset, r.set ?? {})) ctx.addIssue({ code: 'custom', path: ['verdicts', i, 'set', p.name], message: p.message });
        const label = runLabel(r.preset, r.set);
        if (seen.has(label)) ctx.addIssue({ code: 'custom', path: ['verdicts', i], message: `the run ${label} is already declared by verdicts[${seen.get(label)}]` });
        else seen.set(label, i);
      });
    }
  });
export type Scenario = z.infer<typeof ScenarioSchema>;

/**
 * The run a validated scenario describes, in the domain's own types (libs/domain run-spec.ts). The
 * scenario file is a superset (description, bug, verdicts, models); a defaulted scenario is already
 * the whole run, so the map is the identity, and the compiler holds the two in step.
 */
export function runSpecOf(s: Scenario): RunSpec {
  return s;
}
