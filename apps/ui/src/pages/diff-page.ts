import type { LogEntry } from '../../../../libs/contracts/src/index.js';
import { toSvg } from '../../../../libs/diagram/src/index.js';
import { brief, type RunDiff } from '../../../../libs/engine/src/index.js';
import type { OpenRun, RunSummary } from '../run-catalog.js';
import { diagramOf } from '../run-diagram.js';
import { page, text, urlPart, verdictBadge } from './layout.js';

/** Entries shown before and after the first divergence in each column. */
const BEFORE = 6;
const AFTER = 24;

function pickForm(runs: readonly RunSummary[], a?: string, b?: string): string {
  const options = (sel?: string) => runs.map((r) => `<option value="${text(r.runId)}"${r.runId === sel ? ' selected' : ''}>${text(`${r.runId} (${r.scenario}, ${r.policy}, ${r.verdict})`)}</option>`).join('');
  return `<form class="filters" method="get" action="/diff">
<label>A <select name="a">${options(a)}</select></label>
<label>B <select name="b">${options(b)}</select></label>
<button type="submit">Compare</button></form>`;
}

function column(run: OpenRun, at: number | null, other: LogEntry | null, label: string): string {
  const centre = at ?? run.entries.length;
  const rows = run.entries.filter((e) => e.seq >= centre - BEFORE && e.seq <= centre + AFTER);
  return `<div class="column" data-side="${label}">
<h2>${label}: <a href="/runs/${urlPart(run.meta.runId)}?seq=${centre}">${text(run.meta.runId)}</a> ${verdictBadge(run.report.verdict)}</h2>
<p class="mono muted">${text(run.meta.scenario.name)} · ${text(run.meta.policy.preset)} · seed ${run.meta.seed} · ${run.entries.length} entries</p>
<table class="mono"><tbody>${rows.map((e) => `<tr${e.seq === at ? ' class="differs"' : ''}><td>#${e.seq}</td><td>${text(e.component)}</td><td>${text(e.kind)} ${text(e.type)}</td><td>${text(brief(e))}</td></tr>`).join('')}</tbody></table>
${at === null && other ? '<p><b>This run has no such entry.</b></p>' : ''}
<div class="diagram">${toSvg(diagramOf(run, { around: centre, max: 30 }))}</div>
</div>`;
}

/** Two runs side by side from their first divergence: what `vsva-sim diff` prints, as a picture. */
export function diffPage(runs: readonly RunSummary[], pair?: { a: OpenRun; b: OpenRun; diff: RunDiff }): string {
  if (!pair) return page('diff', `<h1>Compare two runs</h1>${pickForm(runs)}<p class="muted">Pick two runs: the page shows both from where they first differ.</p>`);
  const { a, b, diff: d } = pair;
  const f = d.first;
  const head = d.identical
    ? '<p id="diff-verdict"><b>The runs behave identically.</b></p>'
    : `<p id="diff-verdict">First divergence at <b>#${f!.seq}</b>${f!.component ? ` in <b>${text(f!.component)}</b> (its input ${f!.position})` : ''}: ${text(f!.what ?? 'the logs differ')}.</p>`;
  const comps = d.components?.length
    ? `<table class="components"><thead><tr><th>component</th><th>inputs A</th><th>inputs B</th><th>first difference</th></tr></thead><tbody>${d.components.map((c) => `<tr${c.divergence ? ' class="differs"' : ''}><td>${text(c.component)}</td><td>${c.inputs.a}</td><td>${c.inputs.b}</td><td>${c.divergence ? text(`${c.divergence.what} (A #${c.divergence.seq.a ?? '-'}, B #${c.divergence.seq.b ?? '-'})`) : 'same'}</td></tr>`).join('')}</tbody></table>`
    : '';
  const outcomes = d.outcomes.length ? `<h2>Steps whose outcome differs</h2><ul>${d.outcomes.map((o) => `<li class="mono">plan[${o.step}] ${text(o.op)}: A ${text(o.a ?? '-')}, B ${text(o.b ?? '-')}</li>`).join('')}</ul>` : '';
  const violations = d.violations.onlyA.length || d.violations.onlyB.length
    ? `<h2>Invariants violated in one run only</h2><p>A only: ${text(d.violations.onlyA.join(', ') || 'none')} · B only: ${text(d.violations.onlyB.join(', ') || 'none')}</p>` : '';
  const seqA = f ? (f.a?.seq ?? null) : null;
  const seqB = f ? (f.b?.seq ?? null) : null;
  const body = `<h1>Diff</h1>${pickForm(runs, a.meta.runId, b.meta.runId)}
${head}${comps}${outcomes}${violations}
<p class="muted">${text(d.stateHashes?.why ?? '')} <a href="/api/diff?a=${urlPart(a.meta.runId)}&amp;b=${urlPart(b.meta.runId)}">json</a></p>
<div class="side">${column(a, seqA ?? (f ? null : a.entries.length), f?.b ?? null, 'A')}${column(b, seqB ?? (f ? null : b.entries.length), f?.a ?? null, 'B')}</div>`;
  return page(`diff ${a.meta.runId} ${b.meta.runId}`, body);
}
