import { writeFileSync } from 'node:fs';
import { COMPONENTS, LANE } from '../../../../libs/contracts/src/index.js';
import { checkHistory } from '../../../../libs/checkers/src/index.js';
import { draw, leftOut, sequenceOf, type DiagramFormat } from '../../../../libs/diagram/src/index.js';
import { usage } from '../errors.js';
import { openRunSource } from './log-source.js';

export interface DiagramOptions {
  format: DiagramFormat;
  around?: number;
  from?: number;
  to?: number;
  max: number;
  lanes?: string;
  out?: string;
}

const LANE_NAMES = COMPONENTS.map((c) => LANE[c]);

/**
 * Draws a recorded run as a sequence diagram, checked as `run` checks it so that the violating
 * entries are marked. Exit 0 drawn, 2 bad input, 3 no Redis.
 */
export async function diagramCommand(arg: string, o: DiagramOptions): Promise<number> {
  if ((o.from !== undefined || o.to !== undefined) && o.around !== undefined) throw usage('--around and --from/--to choose the window two ways: give one');
  if (o.from !== undefined && o.to !== undefined && o.to < o.from) throw usage(`--to ${o.to} is before --from ${o.from}`);
  const lanes = o.lanes?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = lanes?.filter((l) => !LANE_NAMES.includes(l) && !(COMPONENTS as readonly string[]).includes(l));
  if (unknown?.length) throw usage(`--lanes: unknown lane ${unknown.join(', ')} (lanes: ${LANE_NAMES.join(', ')})`);
  const src = await openRunSource(arg);
  try {
    const entries = await src.all();
    if (!entries.length) throw usage(`${src.label}: the run has no entries`);
    const d = sequenceOf(entries, checkHistory(entries).violations, `run ${src.runId}`, { around: o.around, from: o.from, to: o.to, max: o.max, lanes });
    const text = draw(d, o.format);
    if (o.out) {
      writeFileSync(o.out, text);
      process.stderr.write(`diagram ${src.label}: ${d.items.length} item(s) on ${d.lanes.length} lane(s), ${leftOut(d)}, ${d.violations.length} violation(s); wrote ${o.out}\n`);
    } else process.stdout.write(text);
    return 0;
  } finally {
    await src.close();
  }
}
