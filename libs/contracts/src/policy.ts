import { z } from 'zod';

/**
 * Behaviour that differs between kernel or patch versions is a named policy (DESIGN.md §2.6).
 * Presets group policy values: v1..v8 are the vSVA series revisions, `mainline` is what merged.
 */
export const PRESETS = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'mainline'] as const;
export type Preset = (typeof PRESETS)[number];

export type PolicyValue = boolean | string | number;

export interface PolicyDef<V extends PolicyValue = PolicyValue> {
  /** what the knob models, in a reviewer's words */
  description: string;
  /** where the behaviour comes from (patch, commit, review message) */
  source: string;
  /** allowed values, for validating --set */
  schema: z.ZodType<V>;
  /** value in each preset */
  presets: Record<Preset, V>;
}

const allPresets = <V extends PolicyValue>(v: V, except: Partial<Record<Preset, V>> = {}): Record<Preset, V> =>
  Object.fromEntries(PRESETS.map((p) => [p, p in except ? except[p]! : v])) as Record<Preset, V>;

export const POLICIES = {
  'vfio.iommu_device_null_check': {
    description:
      'VFIO checks the IOMMU device resolved for an mdev (vfio_mdev_get_iommu_device) for NULL before bind, unbind and cache invalidate, and returns -EINVAL; without it a NULL device reaches the IOMMU layer',
    source: 'vSVA v1 8/8 passed it unchecked; Alex Williamson review 2 Apr 2020; v2+ vfio_get_iommu_device() returns -EINVAL',
    schema: z.boolean(),
    presets: allPresets(true, { v1: false }),
  } satisfies PolicyDef<boolean>,
  'vfio.pasid_alloc_fail_errno': {
    description:
      'errno VFIO_IOMMU_PASID_REQUEST returns when the allocation fails (quota or range exhausted): v1 turned every failure into -EFAULT',
    source: 'vSVA v1 vfio_pasid_alloc; v2+ return -ENOSPC from ioasid_alloc/quota',
    schema: z.enum(['ENOSPC', 'EFAULT']),
    presets: allPresets<'ENOSPC' | 'EFAULT'>('ENOSPC', { v1: 'EFAULT' }),
  } satisfies PolicyDef<'ENOSPC' | 'EFAULT'>,
  'vfio.no_vmm_errno': {
    description:
      'errno of VFIO_IOMMU_PASID_REQUEST on a container with no vfio_mm (not nesting, or only an external domain): v1 -EFAULT, v6/v7 the kernel-internal -ENOTSUPP (524, bug #14), the fix a standard -EOPNOTSUPP',
    source: 'v1 vfio_iommu_type1_pasid_alloc [V]; v7 vfio_iommu_type1_pasid_request [V]; v2-v5 and v8 values [M]',
    schema: z.enum(['EFAULT', 'EINVAL', 'ENOTSUPP', 'EOPNOTSUPP']),
    presets: allPresets<'EFAULT' | 'EINVAL' | 'ENOTSUPP' | 'EOPNOTSUPP'>('EINVAL', { v1: 'EFAULT', v6: 'ENOTSUPP', v7: 'ENOTSUPP', v8: 'ENOTSUPP', mainline: 'EOPNOTSUPP' }),
  } satisfies PolicyDef<'EFAULT' | 'EINVAL' | 'ENOTSUPP' | 'EOPNOTSUPP'>,
  'vfio.cache_invld_ignores_errors': {
    description: 'CACHE_INVLD walks every device and ignores per-device errors, returning 0 (v2+); v1 stopped at and returned the first error',
    source: 'v1 7/8 and Alex review (bug #3); v2+ vfio_cache_inv_fn',
    schema: z.boolean(),
    presets: allPresets(true, { v1: false }),
  } satisfies PolicyDef<boolean>,
  'vtd.bind_checks_pasid_ownership': {
    description: 'intel_svm_bind_gpasid checks that the host PASID belongs to the domain\'s IOASID set (ioasid_find): -ENOENT if unallocated, -EACCES if another VM owns it',
    source: 'vSVA v7 09/16 "Check ownership for guest PASID" [V]; absent before v7',
    schema: z.boolean(),
    presets: allPresets(false, { v7: true, v8: true, mainline: true }),
  } satisfies PolicyDef<boolean>,
  'vfio.singleton_nesting_container': {
    description: 'a nesting container accepts one group only: attaching a second group returns -EINVAL',
    source: 'vSVA v6+ (answer to the partial-bind review on v1 6/8)',
    schema: z.boolean(),
    presets: allPresets(true, { v1: false, v2: false, v3: false, v4: false, v5: false }),
  } satisfies PolicyDef<boolean>,
  'vfio.pasid_quota': {
    description: 'per-vfio_mm PASID quota (module parameter pasid_quota, VFIO_DEFAULT_PASID_QUOTA)',
    source: 'vfio_pasid.c',
    schema: z.number().int().positive(),
    presets: allPresets(1000),
  } satisfies PolicyDef<number>,
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
