import { toHtml } from './html.js';
import { toMermaid } from './mermaid.js';
import type { SequenceDiagram } from './sequence.js';
import { toSvg } from './svg.js';

/** The drawings of a diagram, with the media type each is served as (the `diagram` command and the dashboard's API). */
export const DIAGRAM_FORMATS = { mermaid: 'text/plain', svg: 'image/svg+xml', html: 'text/html' } as const;
export type DiagramFormat = keyof typeof DIAGRAM_FORMATS;

export const isDiagramFormat = (f: string): f is DiagramFormat => Object.hasOwn(DIAGRAM_FORMATS, f);

export function draw(d: SequenceDiagram, format: DiagramFormat): string {
  return format === 'svg' ? toSvg(d) : format === 'html' ? toHtml(d) : toMermaid(d);
}
