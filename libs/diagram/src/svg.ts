import { leftOut, type SequenceDiagram } from './sequence.js';

/** Every character a run's text could use to break out of an attribute or an element. */
export const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const COL = 190;
const ROW = 22;
const TOP = 70;
const LEFT = 20;
/** A label longer than this is cut (its whole text is the element's title, shown on hover). */
const CUT = 60;

const cut = (s: string) => (s.length > CUT ? `${s.slice(0, CUT - 1)}…` : s);

/**
 * A standalone SVG of the diagram: a column per lane with its name on top, a row per item in log
 * order, arrows drawn from the sender's line to the receiver's, marks as labels on their lane.
 * Highlighted items are red. Every text a run carries is escaped: it is data, never markup.
 */
export function toSvg(d: SequenceDiagram): string {
  const x = new Map(d.lanes.map((l, i) => [l.id, LEFT + COL / 2 + i * COL]));
  // marks are written to the right of their lane: the last lane's need a column more
  const width = LEFT * 2 + (Math.max(1, d.lanes.length) + 1) * COL;
  const height = TOP + (d.items.length + 1) * ROW + 20;
  const o: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="11">`,
    '<defs><marker id="head" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker>',
    '<marker id="hothead" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#c00"/></marker></defs>',
    `<title>${escapeXml(d.title)}</title>`,
    `<text x="${LEFT}" y="16" font-size="13" font-weight="bold">${escapeXml(d.title)}</text>`,
    `<text x="${LEFT}" y="32" fill="#555">${escapeXml(leftOut(d))}</text>`,
  ];
  for (const l of d.lanes) {
    const lx = x.get(l.id)!;
    o.push(`<g class="lane" data-lane="${escapeXml(l.id)}"><rect x="${lx - COL / 2 + 10}" y="${TOP - 26}" width="${COL - 20}" height="20" fill="#eef" stroke="#99c"/>`);
    o.push(`<text x="${lx}" y="${TOP - 12}" text-anchor="middle">${escapeXml(l.label)}</text>`);
    o.push(`<line x1="${lx}" y1="${TOP - 6}" x2="${lx}" y2="${height - 10}" stroke="#bbb" stroke-dasharray="3,3"/></g>`);
  }
  d.items.forEach((it, i) => {
    const y = TOP + (i + 1) * ROW;
    const color = it.hot ? '#c00' : '#333';
    const cls = `${it.kind}${it.hot ? ' hot' : ''}`;
    if (it.kind === 'arrow') {
      const x1 = x.get(it.from)!;
      const x2 = x.get(it.to)!;
      const self = x1 === x2;
      const path = self ? `M${x1},${y - 8} h30 v10 h-26` : `M${x1},${y} L${x2},${y}`;
      o.push(`<g class="${cls}" data-seq="${it.seq}"${it.recv !== null ? ` data-recv="${it.recv}"` : ''}><title>${escapeXml(`#${it.seq}${it.recv !== null ? ` → #${it.recv}` : ' (never consumed)'} ${it.label}`)}</title>`);
      o.push(`<path d="${path}" fill="none" stroke="${color}"${it.recv === null ? ' stroke-dasharray="5,3"' : ''} marker-end="url(#${it.hot ? 'hothead' : 'head'})"/>`);
      o.push(`<text x="${self ? x1 + 34 : (x1 + x2) / 2}" y="${y - 4}" text-anchor="${self ? 'start' : 'middle'}" fill="${color}">${escapeXml(cut(`${it.label} #${it.seq}`))}</text></g>`);
    } else {
      const lx = x.get(it.lane)!;
      const sign = it.what === 'oops' ? '✖ ' : it.what === 'dmesg' ? '! ' : '• ';
      o.push(`<g class="${cls} ${it.what}" data-seq="${it.seq}"><title>${escapeXml(`#${it.seq} ${it.label}`)}</title>`);
      o.push(`<text x="${lx + 4}" y="${y}" fill="${it.what === 'dmesg' && !it.hot ? '#850' : color}">${escapeXml(cut(`${sign}${it.label} #${it.seq}`))}</text></g>`);
    }
  });
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}
