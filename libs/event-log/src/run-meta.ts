import { z } from 'zod';
import { PRESETS, type ResolvedPolicy } from '../../contracts/src/index.js';
import type { RunMeta } from './run-log.js';

const PolicyValueSchema = z.union([z.boolean(), z.string(), z.number()]);

/** A resolved policy as found in a file: preset checked, values kept as recorded (an older file may name other knobs). */
export const ResolvedPolicySchema = z.object({
  preset: z.enum(PRESETS),
  overrides: z.record(z.string(), PolicyValueSchema),
  values: z.record(z.string(), PolicyValueSchema),
}) as unknown as z.ZodType<ResolvedPolicy>;

export const RunMetaSchema = z.object({
  runId: z.string().min(1),
  scenario: z.object({ name: z.string(), file: z.string().optional() }),
  policy: ResolvedPolicySchema,
  seed: z.number().int(),
  engine: z.enum(['cluster', 'embedded']),
  startedAt: z.number(),
  status: z.enum(['running', 'finished', 'failed']),
}) satisfies z.ZodType<RunMeta>;
