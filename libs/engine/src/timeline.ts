import { COMPONENTS, LANE, formatRet, isEvent, type Envelope, type LogEntry } from '../../contracts/src/index.js';

const W = 7;

/** What a planned step is, as the run.started event's plan records it (PlannedStep) or a step.completed says. */
interface PlanRow { phase?: string; scenarioIndex?: number | null }

/**
 * The label of a step, the same in the timeline, the outcomes and the checkers' messages. The log's
 * `step` fields hold the plan's index (setup first, workload woven in): that is `plan[7]`; a step of
 * the scenario file is `steps[2]` as in the loader's error paths (`steps[2].gpgd`), a workload op
 * `workload[0]`, a topology step `setup`.
 */
export function stepLabel(planIndex: number, row?: PlanRow | null): string {
  const plan = `plan[${planIndex}]`;
  if (!row?.phase) return plan;
  if (row.phase === 'setup') return `setup ${plan}`;
  const list = row.phase === 'workload' ? 'workload' : 'steps';
  return typeof row.scenarioIndex === 'number' ? `${list}[${row.scenarioIndex}] ${plan}` : plan;
}

/** Step labels learned from a run's `run.started` entry (its plan); without it, steps show as `plan[i]`. */
export class StepLabels {
  private plan: readonly PlanRow[] = [];

  observe(e: LogEntry): void {
    if (isEvent(e, 'orchestrator', 'run.started')) this.plan = e.payload.plan;
  }

  label(planIndex: number, p?: Record<string, unknown>): string {
    // a step.completed carries its own phase and scenarioIndex
    if (p && typeof p.phase === 'string') return stepLabel(planIndex, p as PlanRow);
    return stepLabel(planIndex, this.plan[planIndex]);
  }
}

/** A compact summary of a payload: the fields a reader looks for first (the timeline's, and the diagram's labels). */
export function brief(e: LogEntry, labels?: StepLabels): string {
  const p = (e.kind === 'input' ? (e.payload as Envelope).payload : e.payload) as Record<string, unknown> | null;
  if (!p || typeof p !== 'object') return '';
  const parts: string[] = [];
  for (const k of ['vm', 'container', 'op', 'mdev', 'dev', 'domain', 'pasid', 'hpasid', 'group', 'where', 'fn', 'errno', 'why', 'got', 'expected', 'reason']) {
    if (k in p && p[k] !== undefined && typeof p[k] !== 'object') parts.push(`${k}=${p[k]}`);
    // a NULL device is news; an absent expectation is not
    else if (k in p && p[k] === null && k !== 'expected') parts.push(`${k}=NULL`);
  }
  if (typeof p.ret === 'number') parts.push(`ret=${formatRet(p.ret)}`);
  if (p.oops) parts.push(`OOPS in ${p.oops}`);
  if (typeof p.value === 'number' || typeof p.value === 'string') parts.push(`value=${p.value}`);
  if (p.value === null) parts.push('value=NULL');
  if (typeof p.step === 'number') parts.unshift(labels ? labels.label(p.step, p) : stepLabel(p.step, typeof p.phase === 'string' ? (p as PlanRow) : null));
  const o = p.outcome as { ret: number; oops?: string; value?: unknown } | undefined;
  if (o) parts.push(o.oops ? `OOPS in ${o.oops}` : `ret=${formatRet(o.ret)}${o.value !== undefined ? ` value=${o.value}` : ''}`);
  return parts.join(' ');
}

/**
 * One line per log entry, in component lanes: `  seq  |orch |guest|vfio |mdev |host | what`. With
 * `labels` (fed every entry from the run's start), each step is named as in the outcomes
 * (`steps[2] plan[7]`); without, by its plan index alone (`plan[7]`) except where the entry says more.
 */
export function timelineLine(e: LogEntry, labels?: StepLabels, nemesisLane = false): string {
  labels?.observe(e);
  const head = (mark: string) => `${String(e.seq).padStart(5)} L${String(e.lamport).padEnd(4)} ${lanesOf(e.component, mark)}${nemesisLane ? '·'.padEnd(W) : ''}`;
  // a kernel log line gets its own mark and reads as the console does: `dmesg <warn> WARNING: ...`
  if (e.kind === 'event' && e.type === 'dmesg') return `${head('!')} dmesg ${dmesgText(e.payload)}`;
  const mark = e.kind === 'input' ? '▶' : e.kind === 'command' ? '→' : e.type === 'oops' ? '✖' : '•';
  const what = e.kind === 'command' ? `${e.type} → ${LANE[e.to!]}` : e.kind === 'input' ? `${e.type} ← ${(e.payload as Envelope).from}` : e.type;
  const b = brief(e, labels);
  return `${head(mark)} ${what}${b ? `  ${b}` : ''}`;
}

function lanesOf(component: string, mark: string): string {
  return COMPONENTS.map((c) => (c === component ? `${mark}${LANE[c]}`.padEnd(W) : '·'.padEnd(W))).join('');
}

function dmesgText(p: unknown): string {
  const d = p as { level?: unknown; text?: unknown };
  return `<${String(d.level)}> ${String(d.text)}`;
}

export function timelineHeader(nemesisLane = false): string {
  return `${'seq'.padStart(5)} ${'lamp'.padEnd(5)} ${COMPONENTS.map((c) => LANE[c].padEnd(W)).join('')}${nemesisLane ? 'nem'.padEnd(W) : ''} entry`;
}

/** A fault the nemesis (or the seeded scheduler) injected, as the timeline shows it: after the entry at `seq`. */
export interface NemesisMark {
  seq: number;
  kind: string;
  target: string;
  note?: string;
}

/** The nemesis lane's line for a fault: its own column, after the lanes of the components. */
export function nemesisLine(f: NemesisMark): string {
  return `${String(f.seq).padStart(5)} ${'+'.padEnd(5)} ${'·'.padEnd(W).repeat(COMPONENTS.length)}${'⚡nem'.padEnd(W)} ${f.kind} ${f.target}${f.note ? `  ${f.note}` : ''}`;
}

/** A whole run's timeline with the faults injected into it in a nemesis lane, each after the entry it followed. */
export function timelineWithNemesis(entries: readonly LogEntry[], faults: readonly NemesisMark[]): string[] {
  const labels = new StepLabels();
  const marks = [...faults].sort((a, b) => a.seq - b.seq);
  const out = [timelineHeader(true)];
  let k = 0;
  for (const e of entries) {
    while (k < marks.length && marks[k]!.seq < e.seq) out.push(nemesisLine(marks[k++]!));
    out.push(timelineLine(e, labels, true));
  }
  while (k < marks.length) out.push(nemesisLine(marks[k++]!));
  return out;
}
