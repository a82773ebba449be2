import { leftOut, type SequenceDiagram } from './sequence.js';

/** A participant's id: letters, digits and underscores only. */
const pid = (lane: string) => lane.replace(/[^A-Za-z0-9]/g, '_');

/**
 * Text inside a message or note: Mermaid reads `;` as a statement end and `#` as the start of an
 * entity code, and `<`/`>` as HTML in some renderers; a run's payloads may hold any of them.
 */
const text = (s: string) => s.replace(/[;#<>]/g, (c) => ({ ';': ',', '#': 'no.', '<': '‹', '>': '›' })[c]!).replace(/\s+/g, ' ').trim();

/**
 * A Mermaid sequence diagram (pastes into GitHub and most review tools): a participant per lane, a
 * solid arrow per consumed command and a crossed one per command never consumed, a note per mark;
 * highlighted items in a red box, and the window said in a comment and a note at the top.
 */
export function toMermaid(d: SequenceDiagram): string {
  const out = ['sequenceDiagram', `  %% ${text(d.title)}: ${text(leftOut(d))}`];
  for (const l of d.lanes) out.push(`  participant ${pid(l.id)} as ${text(l.label)}`);
  if (d.lanes.length) out.push(`  Note over ${pid(d.lanes[0]!.id)},${pid(d.lanes[d.lanes.length - 1]!.id)}: ${text(leftOut(d))}`);
  for (const it of d.items) {
    const line = it.kind === 'arrow'
      ? `${pid(it.from)}${it.recv === null ? '-x' : '->>'}${pid(it.to)}: ${text(it.label)} @${it.seq}${it.recv === null ? ' (never consumed)' : `→${it.recv}`}`
      : `Note over ${pid(it.lane)}: ${it.what === 'oops' ? '✖ ' : it.what === 'dmesg' ? '! ' : ''}${text(it.label)} @${it.seq}`;
    if (it.hot) out.push('  rect rgb(255, 214, 214)', `    ${line}`, '  end');
    else out.push(`  ${line}`);
  }
  for (const v of d.violations) out.push(`  %% violation ${text(v.invariant)}: ${text(v.message)} (cites ${v.events.join(', ')})`);
  return `${out.join('\n')}\n`;
}
