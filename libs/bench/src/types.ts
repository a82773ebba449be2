import type { MainlineResult } from './explore-table.js';

/** What `vsva-sim bench --json` prints: the machine, the configuration, and every figure beside its peer. */

export interface Spread {
  /** median of the trials (the figure's value) */
  median: number;
  min: number;
  max: number;
  /** (max - min) / median, as a fraction */
  relSpread: number;
  trials: number[];
}

export interface Goal {
  /** how the ratio is judged: at least or at most `value` */
  op: '>=' | '<=';
  value: number;
  /** e.g. ">= 0.8" */
  text: string;
}

export interface Figure {
  /** stable id, e.g. `hop-throughput`, `scale-cpu-per-entry-64vm` */
  id: string;
  /** what is measured, in words */
  name: string;
  value: number;
  unit: string;
  /** median and spread of the trials behind `value` */
  spread: Spread;
  peer: { name: string; value: number; unit: string; spread: Spread };
  /** value / peer.value */
  ratio: number;
  goal: Goal | null;
  /** the goal reached (null: no goal) */
  met: boolean | null;
  /** exactly what each side does, sizes, counts */
  config: Record<string, unknown>;
  /** secondary measurements (variants, breakdowns) that explain the figure */
  details?: Record<string, unknown>;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  /** 1, 5, 15 minutes at the start (other work on the machine shows here) */
  loadAvg: number[];
  /** the same when the bench ended */
  loadAvgAtEnd?: number[];
  totalMemMB: number;
  os: string;
  node: string;
  /** null: none of the figures measured needed Redis (`--only embedded`) */
  redis: { version: string; source: string; url: string; appendonly: string; appendfsync: string; mallocator: string } | null;
  packages: Record<string, string>;
}

export interface BenchResult {
  tool: 'vsva-sim bench';
  version: string;
  mode: 'quick' | 'full';
  /** the figures asked for with --only (absent: all) */
  only?: string[];
  command: string;
  startedAt: string;
  wallSeconds: number;
  machine: Machine;
  /** settings shared by every figure (prefix, trials, sizes) */
  config: Record<string, unknown>;
  figures: Figure[];
  /** `explore`: mainline explored for a fixed budget (no peer: its findings, each a documented quirk or open) */
  explore?: { mainline: MainlineResult };
  /** what quick mode left out, or what could not be measured, and why */
  notes: string[];
}

/** Progress lines on stderr (long work): a message per phase and per trial. */
export interface Progress {
  phase(name: string, total: number): void;
  tick(what?: string): void;
  note(line: string): void;
  done(): void;
}
