import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Quirk } from './findings.js';

/**
 * Behaviours a preset keeps on purpose, documented where `why` says: exploration counts them and does
 * not report them again. Each names the invariant (and, when one behaviour of several breaks it, the
 * signature) and the presets it holds for.
 */
export const DOCUMENTED_QUIRKS: Quirk[] = [
  {
    invariant: 'pasid-quota',
    why: 'bug #13 (DOMAIN.md §4, docs/bug-table.md): a per-mm quota of 1000 over one global PASID space shared by every VM and host SVA; no posted revision fixes it, every preset keeps it (vfio.pasid_quota)',
  },
  {
    invariant: 'uapi-errno',
    message: 'type_granu|reported success although the IOMMU refused it',
    why: 'bug #5 (DOMAIN.md §4, §2.4): an unsupported cache type x granularity (and any PASID-cache request) returns 0: the driver\'s loop breaks with ret 0; every preset keeps it (vtd.unsupported_inval, docs/policies.md)',
  },
  {
    invariant: 'no-stale-translation',
    message: 'unsupported: the IOMMU flushed nothing and reported success, bug #5',
    why: 'bug #5\'s consequence (DOMAIN.md §6: no-stale-translation catches #5): the guest believes an unsupported invalidation that was answered 0 and flushed nothing',
  },
  {
    invariant: 'pasid-ownership',
    message: 'unsupported: the loop broke with 0 before ioasid_find',
    why: 'bug #5\'s consequence (DOMAIN.md §7.8): the ownership check comes inside the loop after the granularity check, so an unsupported type x granularity answers 0 for any PASID, flushing nothing',
  },
  {
    invariant: 'drain-before-reuse',
    message: 'lost its IOMMU device while bound',
    why: 'the consequence of the fault model\'s driver bug (mdev_clear_iommu_device while bound): VFIO names devices to the IOMMU layer through vfio_mdev_get_iommu_device (DOMAIN.md §3), so teardown cannot unbind one it can no longer name, and its PASID entry outlives the free (docs/exploration.md)',
  },
  {
    invariant: 'no-stale-translation',
    message: 'lost its IOMMU device while bound',
    why: 'the same consequence of the fault model\'s driver bug (mdev_clear_iommu_device while bound): the guest\'s unbind never reaches the host, so nothing is torn down or flushed and the old translation stays cached (docs/exploration.md)',
  },
];

const QuirkSchema = z.object({
  invariant: z.string().min(1),
  signature: z.string().optional(),
  message: z.string().refine((m) => { try { new RegExp(m); return true; } catch { return false; } }, 'a regular expression').optional(),
  preset: z.string().optional(),
  why: z.string().min(1, 'say where the behaviour is documented'),
}).strict();

export class QuirkFileError extends Error {}

/**
 * The documented quirks, plus a file's (`--quirks`: a YAML list of {invariant, signature?, message?,
 * preset?, why}); `none`: no quirk at all (every finding reported, the documented ones too).
 */
export function loadQuirks(file?: string): Quirk[] {
  if (!file) return DOCUMENTED_QUIRKS;
  if (file === 'none') return [];
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new QuirkFileError(`--quirks ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = z.array(QuirkSchema).safeParse(raw);
  if (!r.success) throw new QuirkFileError(`--quirks ${file}: ${r.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')} (a list of { invariant, signature?, message?, preset?, why })`);
  return [...DOCUMENTED_QUIRKS, ...r.data];
}
