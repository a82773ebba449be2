import type { RunSummary, SkippedFile } from '../run-catalog.js';
import { page, text, urlPart, verdictBadge, when } from './layout.js';

export interface ListFilter {
  /** words that must all appear in the run id, scenario, policy or engine */
  q?: string;
  verdict?: 'pass' | 'fail' | 'running';
}

export function filterRuns(rows: readonly RunSummary[], f: ListFilter): RunSummary[] {
  const words = (f.q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  return rows.filter((r) => {
    if (f.verdict && r.verdict !== f.verdict) return false;
    const hay = `${r.runId} ${r.scenario} ${r.policy} ${r.engine} seed=${r.seed}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** The run list: every run the dashboard can read, filterable by words and verdict (a GET form: works without script). */
export function runListPage(all: readonly RunSummary[], f: ListFilter, sources: string, skipped: readonly SkippedFile[]): string {
  const rows = filterRuns(all, f);
  const opt = (v: string, label: string) => `<option value="${v}"${f.verdict === v || (!f.verdict && !v) ? ' selected' : ''}>${label}</option>`;
  const body = `
<h1>Runs</h1>
<p class="muted">${text(sources)}</p>
<form class="filters" method="get" action="/">
  <input type="search" name="q" value="${text(f.q ?? '')}" placeholder="scenario, policy, run id…" aria-label="filter">
  <select name="verdict" aria-label="verdict">${opt('', 'any verdict')}${opt('fail', 'fail')}${opt('pass', 'pass')}${opt('running', 'running')}</select>
  <button type="submit">Filter</button>
</form>
<p class="muted">${rows.length} of ${all.length} run(s)</p>
<table class="runs">
<thead><tr><th>run</th><th>scenario</th><th>policy</th><th>engine</th><th>seed</th><th>verdict</th><th>entries</th><th>when</th><th>from</th></tr></thead>
<tbody>
${rows.map((r) => `<tr data-run="${text(r.runId)}"><td><a href="/runs/${urlPart(r.runId)}">${text(r.runId)}</a></td><td>${text(r.scenario)}</td><td>${text(r.policy)}</td><td>${text(r.engine)}</td><td>${r.seed}</td><td>${verdictBadge(r.verdict)}${r.violations ? ` <span class="muted">${r.violations}</span>` : ''}</td><td>${r.entries}</td><td>${text(when(r.startedAt))}</td><td>${text(r.origin)}</td></tr>`).join('\n')}
</tbody></table>
${all.length === 0 ? '<p>No run yet. Make one: <code>npx vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v1 --engine embedded --export v1.ndjson</code>, then start the dashboard with <code>--runs v1.ndjson</code> (or <code>--runs</code> a folder of exports).</p>' : ''}
${skipped.length ? `<h2>Runs that could not be read</h2><ul>${skipped.map((s) => `<li><code>${text(s.path)}</code>: ${text(s.why)}</li>`).join('')}</ul>` : ''}
`;
  return page('runs', body);
}
