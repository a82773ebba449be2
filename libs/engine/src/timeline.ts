import { COMPONENTS, LANE, formatRet, type Envelope, type LogEntry } from '../../contracts/src/index.js';

const W = 7;

/** A compact summary of a payload: the fields a reader looks for first. */
function brief(e: LogEntry): string {
  const p = (e.kind === 'input' ? (e.payload as Envelope).payload : e.payload) as Record<string, unknown> | null;
  if (!p || typeof p !== 'object') return '';
  const parts: string[] = [];
  for (const k of ['vm', 'op', 'mdev', 'dev', 'domain', 'pasid', 'hpasid', 'group', 'where', 'fn', 'errno', 'why', 'got', 'expected', 'reason']) {
    if (k in p && p[k] !== undefined && typeof p[k] !== 'object') parts.push(`${k}=${p[k]}`);
    // a NULL device is news; an absent expectation is not
    else if (k in p && p[k] === null && k !== 'expected') parts.push(`${k}=NULL`);
  }
  if (typeof p.ret === 'number') parts.push(`ret=${formatRet(p.ret)}`);
  if (p.oops) parts.push(`OOPS in ${p.oops}`);
  if (typeof p.value === 'number' || typeof p.value === 'string') parts.push(`value=${p.value}`);
  if (p.value === null) parts.push('value=NULL');
  if (typeof p.step === 'number') parts.unshift(`step ${p.step}`);
  const o = p.outcome as { ret: number; oops?: string; value?: unknown } | undefined;
  if (o) parts.push(o.oops ? `OOPS in ${o.oops}` : `ret=${formatRet(o.ret)}${o.value !== undefined ? ` value=${o.value}` : ''}`);
  return parts.join(' ');
}

/** One line per log entry, in component lanes: `  seq  |orch |guest|vfio |mdev |host | what`. */
export function timelineLine(e: LogEntry): string {
  const mark = e.kind === 'input' ? '▶' : e.kind === 'command' ? '→' : e.type === 'oops' ? '✖' : '•';
  const lanes = COMPONENTS.map((c) => (c === e.component ? `${mark}${LANE[c]}`.padEnd(W) : '·'.padEnd(W))).join('');
  const what = e.kind === 'command' ? `${e.type} → ${LANE[e.to!]}` : e.kind === 'input' ? `${e.type} ← ${(e.payload as Envelope).from}` : e.type;
  return `${String(e.seq).padStart(5)} L${String(e.lamport).padEnd(4)} ${lanes} ${what}${brief(e) ? `  ${brief(e)}` : ''}`;
}

export function timelineHeader(): string {
  return `${'seq'.padStart(5)} ${'lamp'.padEnd(5)} ${COMPONENTS.map((c) => LANE[c].padEnd(W)).join('')} entry`;
}
