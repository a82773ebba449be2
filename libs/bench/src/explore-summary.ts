import { quirkOf, type Finding, type Quirk } from '../../explore/src/index.js';
import type { MainlineResult } from './explore-table.js';
import { figure } from './figure.js';
import { atMost, median, round } from './stats.js';
import type { Figure } from './types.js';

/** The goals for the table: found within a minute, at least 5× faster than uniform generation. */
export const FIND_WITHIN_S = 60;
export const SPEEDUP_GOAL = 5;

/** One search (one exploration seed, one mode) for a bug's invariant. */
export interface Search {
  seed: number;
  found: boolean;
  /** seconds and runs to the finding, or spent until the cap when not found */
  s: number;
  runs: number;
}

/** One mode's searches of one entry: medians with a search that hit the cap counted as "more than the cap". */
export interface SideSummary {
  seeds: number;
  found: number;
  /** null: the median search did not find it within the cap */
  medianS: number | null;
  medianRuns: number | null;
  searches: Search[];
}

/** uniform median / guided median; a bound (`>`, `<`) when one side's median is past the cap; null when both are. */
export interface SpeedUp {
  value: number;
  bound: '=' | '>' | '<';
}

export interface EntryResult {
  bug: { id: number; title: string; invariant: string; scenario: string; policy: string; preset: string; set: Record<string, string | number | boolean> };
  capS: number;
  guided: SideSummary;
  uniform: SideSummary;
  speedUp: SpeedUp | null;
  /** the guided finding shrunk (same invariant and signature), or why it was not */
  shrunk: { steps: number; runs: number; budgetHit: boolean; seed: number } | { error: string } | null;
  handWrittenSteps: number;
  /** null: the cap was too short to tell */
  goals: { foundWithin60s: boolean | null; fiveTimesUniform: boolean | null };
}

/** Median of the searches, a capped one counting as past every found one (right-censored). */
export function summarize(searches: Search[]): SideSummary {
  const of = (k: 's' | 'runs') => {
    const m = median(searches.map((x) => (x.found ? x[k] : Infinity)));
    return Number.isFinite(m) ? m : null;
  };
  return { seeds: searches.length, found: searches.filter((x) => x.found).length, medianS: of('s'), medianRuns: of('runs'), searches };
}

export function speedUpOf(guided: SideSummary, uniform: SideSummary, capS: number): SpeedUp | null {
  const g = guided.medianS;
  const u = uniform.medianS;
  if (g !== null && u !== null) return { value: round(u / Math.max(g, 1e-3)), bound: '=' };
  if (g !== null) return { value: round(capS / Math.max(g, 1e-3)), bound: '>' };
  if (u !== null) return { value: round(u / capS), bound: '<' };
  return null;
}

/** Each goal met, missed, or null when a search that hit the cap leaves it open. */
export function goalsOf(guided: SideSummary, speedUp: SpeedUp | null, capS: number): EntryResult['goals'] {
  const foundWithin60s = guided.medianS !== null ? guided.medianS <= FIND_WITHIN_S : capS >= FIND_WITHIN_S ? false : null;
  let fiveTimesUniform: boolean | null = null;
  if (speedUp?.bound === '=') fiveTimesUniform = speedUp.value >= SPEEDUP_GOAL;
  else if (speedUp?.bound === '>' && speedUp.value >= SPEEDUP_GOAL) fiveTimesUniform = true;
  else if (speedUp?.bound === '<' && speedUp.value <= SPEEDUP_GOAL) fiveTimesUniform = false;
  return { foundWithin60s, fiveTimesUniform };
}

/**
 * The entry as a bench figure: value and peer the median seconds to find (a capped search counted as
 * the cap, so a lower bound), ratio guided / uniform, goal <= 1/5; `met` judged with the cap in mind
 * (goalsOf), the whole entry in `details`.
 */
export function entryFigure(e: EntryResult): Figure {
  const trials = (x: SideSummary) => x.searches.map((s) => (s.found ? s.s : e.capS));
  const f = figure({
    id: `explore-bug-${e.bug.id}`,
    name: `explore: seconds until ${e.bug.invariant} under ${e.bug.policy}, no scenario file (bug #${e.bug.id}, ${e.bug.scenario})`,
    unit: 's', trials: trials(e.guided),
    peer: { name: 'uniform random generation (no swarm, no coverage guidance), same seeds and caps', trials: trials(e.uniform) },
    goal: atMost(1 / SPEEDUP_GOAL),
    config: {
      product: `explore with swarm and coverage guidance (inline pool), seeds ${e.guided.searches.map((s) => s.seed).join(', ')}, stopped at the first ${e.bug.invariant} finding or the cap (${e.capS} s); a search that hit the cap counts as the cap`,
      peer: `explore --uniform: every operation on with equal weight, no corpus; the same seeds and cap`,
    },
    details: e as unknown as Record<string, unknown>,
  });
  return { ...f, met: e.goals.fiveTimesUniform };
}

/** A mainline finding as the table reports it: a documented quirk (and where it is documented) or open. */
export function mainlineFinding(f: Finding, quirks: readonly Quirk[]): MainlineResult['findings'][number] {
  const q = quirkOf(quirks, f, f.policy.preset);
  return {
    key: f.key, invariant: f.invariant, signature: f.signature, message: f.message, run: f.index, hits: f.hits, foundAfterS: round(f.foundAfterS), steps: f.scenario.steps.length,
    status: q ? 'documented quirk' : 'open', ...(q ? { why: q.why } : {}),
  };
}
