import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Quirk } from './findings.js';

/**
 * Behaviours a preset keeps on purpose, documented where `why` says: exploration counts them and does
 * not report them again. Each names the invariant (and, when one behaviour of several breaks it, the
 * signature) and the presets it holds for.
 */
export const DOCUMENTED_QUIRKS: Quirk[] = [];

const QuirkSchema = z.object({
  invariant: z.string().min(1),
  signature: z.string().optional(),
  preset: z.string().optional(),
  why: z.string().min(1, 'say where the behaviour is documented'),
}).strict();

export class QuirkFileError extends Error {}

/** The documented quirks, plus a file's (`--quirks`: a YAML list of {invariant, signature?, preset?, why}). */
export function loadQuirks(file?: string): Quirk[] {
  if (!file) return DOCUMENTED_QUIRKS;
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new QuirkFileError(`--quirks ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = z.array(QuirkSchema).safeParse(raw);
  if (!r.success) throw new QuirkFileError(`--quirks ${file}: ${r.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')} (a list of { invariant, signature?, preset?, why })`);
  return [...DOCUMENTED_QUIRKS, ...r.data];
}
