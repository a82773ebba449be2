import { leftOut, type SequenceDiagram } from './sequence.js';
import { escapeXml, toSvg } from './svg.js';

/**
 * One self-contained HTML file: the SVG inline, the window, and the violations with the entries they
 * cite. No script, no external resource; every text a run carries is escaped.
 */
export function toHtml(d: SequenceDiagram): string {
  const violations = d.violations.length
    ? `<ul>${d.violations.map((v) => `<li><b>${escapeXml(v.invariant)}</b>: ${escapeXml(v.message)} <span class="cites">[${v.events.map((s) => `#${s}`).join(' ')}]</span></li>`).join('')}</ul>`
    : '<p>No violation.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(d.title)}</title>
<style>body{font-family:sans-serif;margin:1em}.cites{color:#555;font-family:monospace}svg{border:1px solid #ddd}</style>
</head><body>
<h1>${escapeXml(d.title)}</h1>
<p>${escapeXml(leftOut(d))}. Red: the entries a violation cites. Arrows run from the entry that sent a command to the one that consumed it; a dashed arrow was never consumed.</p>
<h2>Violations</h2>
${violations}
${toSvg(d)}</body></html>
`;
}
