import { escapeXml } from '../../../../libs/diagram/src/index.js';

/**
 * The dashboard's pages are rendered on the server as strings. Everything a run carries (scenario
 * names, descriptions, payloads, kernel log lines) goes through `text()`: it is data, never markup.
 * The only scripts are the dashboard's own files under /assets.
 */
export const text = (s: unknown): string => escapeXml(String(s ?? ''));

/** A URL path segment or query value from run data. */
export const urlPart = (s: string): string => encodeURIComponent(s);

const CSS = `
:root{--fg:#222;--muted:#666;--line:#ddd;--bad:#c00;--ok:#070;--hi:#fff3b0}
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;color:var(--fg);margin:0}
header.top{background:#223;color:#fff;padding:.5em 1em;display:flex;gap:1.5em;align-items:baseline}
header.top a{color:#fff;text-decoration:none}header.top .brand{font-weight:bold}
main{padding:1em}
h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.05em;margin:1.2em 0 .4em}
table{border-collapse:collapse;font-size:.9em}td,th{border-bottom:1px solid var(--line);padding:.25em .6em;text-align:left;vertical-align:top}
.verdict{font-weight:bold;padding:0 .4em;border-radius:3px}.verdict.fail{color:#fff;background:var(--bad)}.verdict.pass{color:#fff;background:var(--ok)}.verdict.running{background:#fd0}
.muted{color:var(--muted)}code,pre,.mono{font-family:ui-monospace,monospace;font-size:.85em}
pre{white-space:pre-wrap;word-break:break-word;margin:.2em 0}
.description{max-width:70em;white-space:pre-wrap}
ul.violations li{margin:.3em 0}ul.violations a.violation{color:var(--bad);font-weight:bold}
.scrubber{position:sticky;top:0;background:#fafafa;border-bottom:1px solid var(--line);padding:.5em 0;z-index:2;display:flex;gap:.6em;align-items:center;flex-wrap:wrap}
.scrubber input[type=range]{flex:1;min-width:20em}
.grid{display:grid;grid-template-columns:minmax(0,1.2fr) minmax(0,1fr);gap:1em}
#entry{max-height:14em;overflow:auto;border:1px solid var(--line);padding:.3em}
#state{max-height:70vh;overflow:auto}
.diagram{overflow:auto;max-height:75vh;border:1px solid var(--line)}
.diagram svg .cursor text,.diagram svg .cursor{font-weight:bold}
.diagram svg [data-seq].cursor line,.diagram svg [data-recv].cursor line{stroke-width:3}
.pane{border:1px solid var(--line);margin-bottom:.6em}.pane>h3{margin:0;padding:.3em .5em;background:#f1f1f6;font-size:.95em}
.pane .consumed{padding:.2em .5em}.pane details{padding:0 .5em}.pane details.changed>summary{background:var(--hi)}
.pane details.oops>summary{color:var(--bad);font-weight:bold}
.dmesg li.emerg,.dmesg li.alert,.dmesg li.crit{color:var(--bad)}
.filters{display:flex;gap:.6em;margin:.5em 0}
.side{display:flex;gap:1em}.side>div{flex:1;min-width:0}
tr.differs td{background:var(--hi)}
`;

export function page(title: string, body: string, scripts: string[] = []): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>${text(title)} · vsva-sim</title><style>${CSS}</style></head>
<body><header class="top"><a class="brand" href="/">vsva-sim</a><a href="/">runs</a><a href="/diff">diff</a><a href="/queues">queues</a><a href="/api/runs">json</a></header>
<main>${body}</main>
${scripts.map((s) => `<script type="module" src="/assets/${text(s)}"></script>`).join('\n')}
</body></html>
`;
}

export const verdictBadge = (v: string) => `<span class="verdict ${text(v)}">${text(v.toUpperCase())}</span>`;

export const when = (ms: number) => (ms > 0 ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '');

export function notFoundPage(what: string): string {
  return page('not found', `<h1>Not found</h1><p>${text(what)}</p><p><a href="/">All runs</a></p>`);
}
