import type { EntryResult } from './explore-summary.js';
import { formatExplore } from './explore-table.js';
import type { BenchResult, Figure } from './types.js';

const num = (x: number) => {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toPrecision(3);
};
const pct = (f: number) => `±${Math.round((f * 100) / 2)}%`;

function row(f: Figure): string[] {
  return [
    f.id,
    `${num(f.value)} ${f.unit} ${pct(f.spread.relSpread)}`,
    `${num(f.peer.value)} ${f.peer.unit} ${pct(f.peer.spread.relSpread)}`,
    num(f.ratio),
    f.goal ? f.goal.text : '-',
    f.met === null ? '' : f.met ? 'yes' : 'NO',
  ];
}

/** The human table: one line per figure (value and peer as median ± half the min-max spread), then the peers' names and the machine. */
export function formatTable(r: BenchResult): string {
  const head = ['figure', 'value', 'peer', 'ratio', 'goal', 'met'];
  // the exploration's figures have a table of their own (a capped search is not a number to print as one)
  const isExplore = (f: Figure) => f.id.startsWith('explore-bug-');
  const general = r.figures.filter((f) => !isExplore(f));
  const explored = r.figures.filter(isExplore).map((f) => f.details as unknown as EntryResult);
  const rows = general.map(row);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 3 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  const m = r.machine;
  const out = [
    `vsva-sim bench (${r.mode}${r.only ? `, only ${r.only.join(',')}` : ''}) ${r.startedAt}, ${r.wallSeconds} s: ${r.command}`,
    `machine: ${m.cores} cores (${m.cpuModel}), load ${m.loadAvg.join(' ')} at start${m.loadAvgAtEnd ? `, ${m.loadAvgAtEnd.join(' ')} at end` : ''}, ${m.totalMemMB} MB, ${m.os}, Node ${m.node}; ${m.redis ? `Redis ${m.redis.version} (${m.redis.source}, appendonly ${m.redis.appendonly}, appendfsync ${m.redis.appendfsync})` : 'no Redis'}; bullmq ${m.packages.bullmq}, ioredis ${m.packages.ioredis}`,
    `values: median of the trials ± half the min-max spread (trials per figure in the JSON); ratio = value / peer`,
    ...(rows.length ? ['', line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)] : []),
    ...(explored.length || r.explore ? ['', ...formatExplore(explored, r.explore?.mainline)] : []),
    '',
    'peers:',
    ...general.map((f) => `  ${f.id}: ${f.peer.name}`),
    ...(explored.length ? [`  explore-bug-*: ${r.figures.find(isExplore)!.peer.name}`] : []),
    ...(r.notes.length ? ['', ...r.notes.map((n) => `note: ${n}`)] : []),
  ];
  return out.join('\n');
}
