import type { Scenario } from '../../scenario/src/index.js';
import type { ExploreRunSpec } from './run-spec.js';

/** A distinct failure: the first run that showed it, and how often others did. */
export interface Finding {
  /** `invariant` and `signature` together: two runs with the same key are one finding */
  key: string;
  invariant: string;
  signature: string;
  message: string;
  /** the run that found it */
  index: number;
  /** its place among the exploration's findings (two can come from one run) */
  ordinal: number;
  seed: number;
  bias: number;
  policy: ExploreRunSpec['policy'];
  /** runs that showed it, this one included */
  hits: number;
  /** seconds into the exploration (this session's) when it was found */
  foundAfterS: number;
  /** runs done when it was found */
  foundAfterRuns: number;
  scenario: Scenario;
  /** after shrinking: the smallest scenario that still shows it, and how `vsva-sim run` reproduces it */
  shrunk?: { scenario: Scenario; steps: number; seed: number; bias?: number; runs: number };
  /** files written for it (findings folder) */
  files?: { scenario: string; original: string; log?: string };
  reproduce?: string;
}

export const findingKey = (invariant: string, signature: string) => `${invariant} @ ${signature}`;

/**
 * A behaviour a preset keeps on purpose (a documented quirk): a finding that matches one is counted,
 * not reported. `preset` (and `invariant`, `signature` when given) must match; `why` says where it is
 * documented.
 */
export interface Quirk {
  invariant: string;
  signature?: string;
  /** a regular expression the violation's message must match (one behaviour of several an invariant catches at one place) */
  message?: string;
  preset?: string;
  why: string;
}

export function quirkOf(quirks: readonly Quirk[], v: { invariant: string; signature: string; message: string }, preset: string): Quirk | undefined {
  return quirks.find((q) => q.invariant === v.invariant && (q.signature === undefined || q.signature === v.signature)
    && (q.preset === undefined || q.preset === preset) && (q.message === undefined || new RegExp(q.message).test(v.message)));
}
