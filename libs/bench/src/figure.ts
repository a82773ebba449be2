import { meets, round, spreadOf } from './stats.js';
import type { Figure, Goal, Spread } from './types.js';

const rounded = (sp: Spread): Spread => ({ median: round(sp.median), min: round(sp.min), max: round(sp.max), relSpread: round(sp.relSpread, 2), trials: sp.trials.map((x) => round(x)) });

/** A figure from its trials and its peer's: value and peer are medians, ratio = value / peer. */
export function figure(f: {
  id: string; name: string; unit: string; trials: number[];
  peer: { name: string; unit?: string; trials: number[] };
  goal: Goal | null; config: Record<string, unknown>; details?: Record<string, unknown>;
}): Figure {
  const s = spreadOf(f.trials);
  const p = spreadOf(f.peer.trials);
  const ratio = s.median / p.median;
  return {
    id: f.id, name: f.name, value: round(s.median), unit: f.unit, spread: rounded(s),
    peer: { name: f.peer.name, value: round(p.median), unit: f.peer.unit ?? f.unit, spread: rounded(p) },
    ratio: round(ratio), goal: f.goal, met: meets(f.goal, ratio), config: f.config, ...(f.details ? { details: f.details } : {}),
  };
}

export const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
