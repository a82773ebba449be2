// The run page's script (bundled to dist/ui/run-page.js by scripts/bundle.js): moves the cursor over the
// log, redraws the diagram around it, shows the entry and every component's state folded up to it, and
// follows a live run. Everything from the server that is run data is set as text (textContent); the only
// markup taken whole is the server's own, already escaped (the SVG and the summary section).
import type { ComponentAt, FollowBatch, StateAt } from '../api-types.js';

const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel)!;
const bar = $<HTMLDivElement>('#scrubber');
const range = $<HTMLInputElement>('#seq');
const label = $<HTMLOutputElement>('#seq-label');
const diagram = $<HTMLDivElement>('#diagram');
const runId = bar.dataset.run!;
const api = `/api/runs/${encodeURIComponent(runId)}`;

let last = Number(bar.dataset.last);
let cursor = Number(bar.dataset.seq);
let zoom = 1;
/** each section's JSON at the previous cursor: what changed is highlighted */
let previous = new Map<string, string>();
/** the sections a reader opened stay open as the cursor moves */
const opened = new Set<string>();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.text();
}

/** The seqs the diagram on the page draws. */
function drawn(): { min: number; max: number } {
  const seqs = [...diagram.querySelectorAll<SVGGElement>('[data-seq]')].flatMap((g) => [Number(g.dataset.seq), Number(g.dataset.recv ?? g.dataset.seq)]);
  return seqs.length ? { min: Math.min(...seqs), max: Math.max(...seqs) } : { min: 0, max: -1 };
}

async function ensureDiagram(seq: number, force = false): Promise<void> {
  const w = drawn();
  if (!force && seq >= w.min && seq <= w.max) return;
  // the server's SVG: every text in it escaped (libs/diagram/src/svg.ts)
  diagram.innerHTML = await fetchText(`${api}/diagram?format=svg&around=${seq}&max=60`);
  applyZoom();
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The entry under the cursor: its items bold, a band across the diagram at its row, scrolled into view. */
function markCursor(seq: number): void {
  for (const g of diagram.querySelectorAll('.cursor')) g.classList.remove('cursor');
  diagram.querySelector('.cursor-band')?.remove();
  const hit = [...diagram.querySelectorAll<SVGGElement>(`[data-seq="${seq}"], [data-recv="${seq}"]`)];
  for (const g of hit) g.classList.add('cursor');
  const svg = diagram.querySelector('svg');
  if (!hit[0] || !svg) return;
  const box = hit[0].getBBox();
  const band = document.createElementNS(SVG_NS, 'rect');
  band.setAttribute('class', 'cursor-band');
  for (const [k, v] of Object.entries({ x: 0, y: box.y - 3, width: svg.getAttribute('width') ?? 0, height: box.height + 6, fill: '#fff3b0' })) band.setAttribute(k, String(v));
  svg.querySelector('defs')?.after(band);
  // scroll the diagram, not the page: the row to the middle of the diagram's box
  const r = hit[0].getBoundingClientRect();
  const c = diagram.getBoundingClientRect();
  diagram.scrollTop += r.top - c.top - c.height / 2;
}

/** Zoom 1 fits the diagram to its box's width (every lane in view); the buttons scale from there. */
function applyZoom(): void {
  const svg = diagram.querySelector('svg');
  if (!svg) return;
  const w = Number(svg.getAttribute('width'));
  const h = Number(svg.getAttribute('height'));
  const fit = Math.min(1, (diagram.clientWidth - 2) / w);
  svg.style.width = `${w * fit * zoom}px`;
  svg.style.height = `${h * fit * zoom}px`;
}

function renderComponent(c: ComponentAt, next: Map<string, string>): HTMLElement {
  const pane = el('section', 'pane');
  pane.dataset.component = c.component;
  pane.append(el('h3', undefined, `${c.component} · ${c.inputs} input(s) consumed`));
  pane.append(el('div', 'consumed mono', c.consumed ? `last consumed #${c.consumed.seq} ${c.consumed.type} ${c.consumed.brief}` : 'nothing consumed yet'));
  for (const s of c.sections) {
    const key = `${c.component}/${s.title}`;
    const json = JSON.stringify(s.value, null, 1) ?? 'null';
    next.set(key, json);
    const d = el('details');
    d.dataset.section = s.title;
    const changed = previous.size > 0 && previous.get(key) !== json;
    if (changed) d.classList.add('changed');
    if (s.title === 'OOPS') d.classList.add('oops');
    d.open = opened.has(key) || s.title === 'OOPS';
    d.addEventListener('toggle', () => (d.open ? opened.add(key) : opened.delete(key)));
    const empty = json === '{}' || json === '[]';
    d.append(el('summary', undefined, `${s.title}${empty ? ' (empty)' : ''}${changed ? ' · changed' : ''}`), el('pre', 'mono', json));
    pane.append(d);
  }
  return pane;
}

function render(at: StateAt): void {
  $('#entry-seq').textContent = `#${at.seq}`;
  $('#entry').textContent = at.entry ? JSON.stringify(at.entry, null, 1) : '';
  const next = new Map<string, string>();
  const panes = at.components.map((c) => renderComponent(c, next));
  $('#state').replaceChildren(...panes);
  previous = next;
}

// latest wins: a cursor dragged across many entries asks for the last one only
let want = cursor;
let busy = false;
async function go(seq: number): Promise<void> {
  want = Math.min(Math.max(1, Math.round(seq)), Math.max(1, last));
  range.value = String(want);
  label.textContent = `#${want} of ${last}`;
  if (busy) return;
  busy = true;
  try {
    while (true) {
      const s = want;
      const [at] = await Promise.all([fetchText(`${api}/state?seq=${s}`).then((t) => JSON.parse(t) as StateAt), ensureDiagram(s)]);
      if (s !== want) continue;
      cursor = s;
      render(at);
      markCursor(s);
      history.replaceState(null, '', `?seq=${s}`);
      bar.dataset.shown = String(s);
      break;
    }
  } catch (e) {
    $('#live-status').textContent = (e as Error).message;
  } finally {
    busy = false;
  }
}

range.addEventListener('input', () => void go(Number(range.value)));
$('#prev').addEventListener('click', () => void go(cursor - 1));
$('#next').addEventListener('click', () => void go(cursor + 1));
$('#zoom-in').addEventListener('click', () => { zoom = Math.min(4, zoom * 1.25); applyZoom(); });
$('#zoom-out').addEventListener('click', () => { zoom = Math.max(0.25, zoom / 1.25); applyZoom(); });
document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
  if (e.key === 'ArrowLeft') void go(cursor - 1);
  if (e.key === 'ArrowRight') void go(cursor + 1);
});
// a violation, a cited entry, a kernel log line, a step: each links to its seq; so does every item of the diagram
document.addEventListener('click', (e) => {
  const t = e.target as Element;
  const link = t.closest<HTMLAnchorElement>('a[data-seq]');
  const item = link ? null : t.closest<SVGGElement>('#diagram [data-seq]');
  const seq = Number(link?.dataset.seq ?? item?.dataset.seq);
  if (!Number.isFinite(seq)) return;
  e.preventDefault();
  bar.scrollIntoView({ block: 'nearest' });
  void go(seq);
});

function follow(): void {
  const status = $('#live-status');
  const source = new EventSource(`${api}/follow?after=${last}`);
  source.addEventListener('entries', (ev) => {
    const b = JSON.parse((ev as MessageEvent<string>).data) as FollowBatch;
    const atEnd = cursor >= last;
    last = b.last;
    range.max = String(last);
    status.textContent = `live: ${last} entries so far`;
    const count = document.getElementById('entry-count');
    if (count) count.textContent = String(last);
    if (atEnd) void go(last);
    else label.textContent = `#${cursor} of ${last}`;
  });
  source.addEventListener('trouble', (ev) => {
    status.textContent = `live: ${(JSON.parse((ev as MessageEvent<string>).data) as { message: string }).message}`;
  });
  source.addEventListener('end', async () => {
    source.close();
    status.textContent = `ended: ${last} entries`;
    // the verdict, violations and kernel log, as the server renders them for a finished run
    const summary = document.getElementById('summary');
    if (summary) summary.outerHTML = await fetchText(`${api}/summary.html`);
    bar.dataset.live = 'false';
    bar.dataset.ended = 'true';
    await ensureDiagram(cursor, true);
    await go(cursor);
  });
}

applyZoom();
void go(cursor);
if (bar.dataset.live === 'true') follow();
