import type { EntryResult, SideSummary, SpeedUp } from './explore-summary.js';

/** Mainline explored for a fixed budget: every distinct finding, a documented quirk or open. */
export interface MainlineResult {
  seed: number;
  budgetS: number;
  runs: number;
  elapsedS: number;
  coverage: number;
  simulatorErrors: number;
  findings: Array<{
    key: string; invariant: string; signature: string; message: string; run: number; hits: number; foundAfterS: number; steps: number;
    status: 'documented quirk' | 'open';
    /** where the quirk is documented */
    why?: string;
  }>;
}

const secs = (s: number) => (s < 10 ? s.toFixed(2) : s.toFixed(1));
const times = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(0) : x.toFixed(1));

/** `0.41 s, 23 runs`; `not found in 10 s`; with `(2/3 seeds)` when not every seed found it. */
export function sideCell(x: SideSummary, capS: number): string {
  const seeds = x.found < x.seeds ? ` (${x.found}/${x.seeds} seeds)` : '';
  if (x.medianS === null) return `not found in ${capS} s${seeds}`;
  return `${secs(x.medianS)} s, ${Math.round(x.medianRuns!).toLocaleString('en-US')} runs${seeds}`;
}

export function speedUpCell(s: SpeedUp | null): string {
  if (!s) return '-';
  return `${s.bound === '=' ? '' : `${s.bound} `}${times(s.value)}×`;
}

const yesNo = (b: boolean | null) => (b === null ? '?' : b ? 'yes' : 'NO');

export function entryRow(e: EntryResult): string[] {
  const shrunk = !e.shrunk ? '-' : 'error' in e.shrunk ? 'not shrunk' : `${e.shrunk.steps}${e.shrunk.budgetHit ? '+' : ''}`;
  return [
    `#${e.bug.id}`, e.bug.invariant, e.bug.policy,
    sideCell(e.guided, e.capS), sideCell(e.uniform, e.capS), speedUpCell(e.speedUp),
    `${shrunk} / ${e.handWrittenSteps}`, yesNo(e.goals.foundWithin60s), yesNo(e.goals.fiveTimesUniform),
  ];
}

function grid(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)];
}

/** The exploration benchmark as a person reads it: one line per bug-table entry, then mainline's findings. */
export function formatExplore(entries: EntryResult[], mainline: MainlineResult | undefined): string[] {
  const out: string[] = [];
  if (entries.length) {
    const capS = entries[0]!.capS;
    const seeds = entries[0]!.guided.seeds;
    out.push(
      `explore: time and runs until the bug's invariant under its buggy policy, no scenario file; median of ${seeds} seed(s), each search capped at ${capS} s`,
      `  guided = swarm + coverage guidance; uniform = the peer (every operation, equal weights, no corpus); speed-up = uniform / guided`,
      `  steps = the guided finding shrunk (same invariant and signature; + = shrink budget hit) / the hand-written scenario's`,
      '',
      ...grid(['bug', 'invariant', 'policy', 'guided', 'uniform', 'speed-up', 'steps', '<= 60 s', '>= 5×'], entries.map(entryRow)),
    );
    const missed = entries.filter((e) => e.goals.foundWithin60s !== true || e.goals.fiveTimesUniform !== true).map((e) => `#${e.bug.id}`);
    out.push('', `goals met by ${entries.length - missed.length} of ${entries.length} entries${missed.length ? `; not (or not known with this cap): ${missed.join(' ')}` : ''}`);
  }
  if (mainline) {
    out.push('', `explore mainline, guided, seed ${mainline.seed}, ${mainline.budgetS} s: ${mainline.runs.toLocaleString('en-US')} runs, coverage ${mainline.coverage}, ${mainline.findings.length} distinct finding(s)${mainline.simulatorErrors ? `, ${mainline.simulatorErrors} simulator error(s)` : ''}`);
    for (const f of mainline.findings) out.push(`  ${f.status === 'open' ? 'open            ' : 'documented quirk'}  ${f.key}  (run ${f.run}, ${f.hits} hit(s))${f.why ? `: ${f.why}` : ''}`);
  }
  return out;
}
