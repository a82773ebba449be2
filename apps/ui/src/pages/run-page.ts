import type { Envelope } from '../../../../libs/contracts/src/index.js';
import { toSvg } from '../../../../libs/diagram/src/index.js';
import { stepLabel } from '../../../../libs/engine/src/index.js';
import { summaryOf, type OpenRun } from '../run-catalog.js';
import { diagramOf } from '../run-diagram.js';
import { page, text, urlPart, verdictBadge, when } from './layout.js';

/** The seq the run page opens on: asked for, else the entry the first violation ends on, else the last. */
export function initialSeq(run: OpenRun, asked?: number): number {
  const last = run.entries.length;
  if (asked !== undefined && asked >= 1 && asked <= last) return asked;
  // a live run is checked when it ends: until then the page follows its end
  if (run.meta.status === 'running') return Math.max(1, last);
  const v = run.report.violations[0];
  return v?.events.length ? Math.max(...v.events) : Math.max(1, last);
}

const seqLink = (seq: number, label = `#${seq}`, cls = 'cite') => `<a class="${cls}" href="?seq=${seq}" data-seq="${seq}">${text(label)}</a>`;

/** What the run says of itself: the scenario's description and model, as its run.start carried them. */
function scenarioText(run: OpenRun): { description?: string; models?: string } {
  const first = run.entries[0];
  if (!first || first.kind !== 'input' || first.type !== 'run.start') return {};
  const sc = ((first.payload as Envelope).payload as { scenario?: { description?: unknown; models?: unknown } }).scenario;
  return {
    ...(typeof sc?.description === 'string' ? { description: sc.description } : {}),
    ...(typeof sc?.models === 'string' ? { models: sc.models } : {}),
  };
}

/** The part of the run page the live follow re-reads when the run ends: verdict, violations, outcomes, kernel log. */
export function runSummaryHtml(run: OpenRun): string {
  const s = summaryOf(run);
  const r = run.report;
  const sc = scenarioText(run);
  const violations = r.violations.length && s.verdict !== 'running'
    ? `<ul class="violations">${r.violations.map((v) => `<li>${v.events.length ? seqLink(Math.max(...v.events), v.invariant, 'violation') : `<b>${text(v.invariant)}</b>`}: ${text(v.message)} <span class="mono muted">[${v.events.map((e) => seqLink(e)).join(' ')}]</span></li>`).join('')}</ul>`
    : `<p>${s.verdict === 'running' ? 'The run is still being written: it is checked when it ends.' : 'No violation: every invariant held.'}</p>`;
  const outcomes = r.outcomes.filter((o) => o.phase !== 'setup');
  return `<section id="summary" data-verdict="${text(s.verdict)}">
<h1>${text(s.scenario)} ${verdictBadge(s.verdict)}</h1>
<p class="mono">run ${text(s.runId)} · policy ${text(r.policy.preset)} (${text(r.policy.kernel)}) · engine ${text(s.engine)} · seed ${s.seed} · <span id="entry-count">${s.entries}</span> entries · ${text(when(s.startedAt))} · ${text(run.origin.kind === 'file' ? run.origin.path : 'Redis')}</p>
${sc.description ? `<details open><summary>description</summary><p class="description">${text(sc.description)}</p></details>` : ''}
${sc.models ? `<details><summary>what it models</summary><p class="description">${text(sc.models)}</p></details>` : ''}
<h2>Violations</h2>
${violations}
${outcomes.length ? `<h2>Steps</h2><table class="outcomes"><thead><tr><th>step</th><th>op</th><th>result</th><th>expected</th><th>log</th></tr></thead><tbody>${outcomes.map((o) => `<tr><td>${text(stepLabel(o.step, o))}</td><td>${text(o.op)}</td><td>${text(o.result)}${o.value !== undefined ? ` (value ${text(JSON.stringify(o.value))})` : ''}</td><td>${text(o.expected ?? '')}${o.asExpected ? '' : ' <b>not as expected</b>'}</td><td>${seqLink(o.seq)}</td></tr>`).join('')}</tbody></table>` : ''}
<h2>Kernel log</h2>
${r.dmesg.length ? `<ul class="dmesg mono">${r.dmesg.map((d) => `<li class="${text(d.level)}">${seqLink(d.seq)} &lt;${text(d.level)}&gt; ${text(d.text)} <span class="muted">(${text(d.component)}, ${text(d.fn)})</span></li>`).join('')}</ul>` : '<p class="muted">The kernel printed nothing.</p>'}
</section>`;
}

/**
 * The run page: the summary, then a scrubber over the log's sequence with the diagram around the
 * cursor, the entry under it, and each component's state folded up to it (the client script,
 * /assets/run-page.js, moves the cursor; without script the page still shows the diagram and links).
 */
export function runPage(run: OpenRun, asked?: number): string {
  const s = summaryOf(run);
  const seq = initialSeq(run, asked);
  const live = s.status === 'running';
  const body = `
${runSummaryHtml(run)}
<h2>Step through the log</h2>
<div class="scrubber" id="scrubber" data-run="${text(s.runId)}" data-last="${s.entries}" data-seq="${seq}" data-live="${live}">
  <button id="prev" title="previous entry (←)">◀</button>
  <input type="range" id="seq" min="1" max="${Math.max(1, s.entries)}" value="${seq}" aria-label="log sequence">
  <button id="next" title="next entry (→)">▶</button>
  <output id="seq-label" class="mono">#${seq} of ${s.entries}</output>
  <button id="zoom-out" title="zoom out">−</button><button id="zoom-in" title="zoom in">+</button>
  <span id="live-status" class="muted">${live ? 'live: following the run as it is written' : ''}</span>
</div>
<div class="grid">
  <div><div class="diagram" id="diagram">${toSvg(diagramOf(run, { around: seq, max: 60 }))}</div>
    <p class="muted">Arrows run from the entry that sent a command to the one that consumed it; red: the entries a violation cites. <a href="/api/runs/${urlPart(s.runId)}/diagram?format=mermaid&amp;around=${seq}">Mermaid</a> · <a href="/api/runs/${urlPart(s.runId)}/diagram?format=svg">SVG</a></p></div>
  <div>
    <h3>Entry <span id="entry-seq">#${seq}</span></h3>
    <pre id="entry" class="mono"></pre>
    <h3>State: every input up to this entry consumed</h3>
    <div id="state"><p class="muted">loading…</p></div>
  </div>
</div>`;
  return page(`${s.scenario} · ${s.runId}`, body, ['run-page.js']);
}
