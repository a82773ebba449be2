import { COMPONENTS, LANE, type Component, type Envelope, type LogEntry } from '../../contracts/src/index.js';
import { brief, StepLabels } from '../../engine/src/index.js';

/**
 * A run's log as a sequence (Lamport) diagram, whatever draws it (mermaid.ts, svg.ts, html.ts): one
 * lane per component, and per VM where the guest's vIOMMU serves several; an arrow per command, from
 * the entry that sent it to the one that consumed it; the other entries as marks on their lane. The
 * violating entries, and every entry a violation cites, are highlighted.
 */
export interface Lane {
  id: string;
  component: Component;
  vm?: string;
  label: string;
}

export interface Arrow {
  kind: 'arrow';
  from: string;
  to: string;
  /** the command's seq, and its input's when a component consumed it */
  seq: number;
  recv: number | null;
  label: string;
  hot: boolean;
}

export interface Mark {
  kind: 'mark';
  lane: string;
  seq: number;
  /** dmesg: a line of the kernel's log; oops: a crash; event: what the component recorded */
  what: 'event' | 'dmesg' | 'oops';
  label: string;
  hot: boolean;
}

export interface Cited {
  invariant: string;
  message: string;
  events: number[];
}

export interface SequenceDiagram {
  title: string;
  lanes: Lane[];
  items: Array<Arrow | Mark>;
  /** the log seqs shown, and how many entries were left out before and after them */
  window: { from: number; to: number; before: number; after: number };
  violations: Cited[];
}

export interface WindowOptions {
  /** the window's centre (default: the first violation's last cited entry, or the run's end) */
  around?: number;
  from?: number;
  to?: number;
  /** at most this many log entries (default 80) */
  max?: number;
  /** lane names (orch, guest, vfio, mdev, host) or components to keep; default all */
  lanes?: string[];
}

/** Bookkeeping a reader does not look for in a picture: a call parked and resumed is the arrow pair around it. */
const QUIET = new Set(['call.parked', 'call.resumed']);

/** The window of seqs to draw: explicit, or around a seq, or ending at the first violation. */
export function windowOf(entries: readonly LogEntry[], violations: readonly Cited[], o: WindowOptions): { from: number; to: number } {
  const first = entries[0]?.seq ?? 1;
  const last = entries[entries.length - 1]?.seq ?? 0;
  const max = Math.max(1, o.max ?? 80);
  if (o.from !== undefined || o.to !== undefined) {
    const from = Math.max(first, o.from ?? (o.to !== undefined ? o.to - max + 1 : first));
    return { from, to: Math.min(last, o.to ?? from + max - 1) };
  }
  if (o.around !== undefined) {
    const from = Math.max(first, o.around - Math.floor(max / 2));
    return { from, to: Math.min(last, from + max - 1) };
  }
  // the first violation: the window ends on the last entry it cites, so its cause is the last thing drawn
  const v = violations[0];
  const end = v && v.events.length ? Math.max(...v.events) : last;
  return { from: Math.max(first, end - max + 1), to: Math.min(last, end) };
}

/** The VM an entry is about, when it names one (the envelope's payload, for an input). */
function vmOf(e: LogEntry): string | undefined {
  const p = (e.kind === 'input' ? (e.payload as Envelope).payload : e.payload) as { vm?: unknown } | null;
  return p && typeof p === 'object' && typeof p.vm === 'string' ? p.vm : undefined;
}

export function sequenceOf(entries: readonly LogEntry[], violations: readonly Cited[], title: string, o: WindowOptions = {}): SequenceDiagram {
  const w = windowOf(entries, violations, o);
  const keep = o.lanes?.length ? new Set(COMPONENTS.filter((c) => o.lanes!.includes(c) || o.lanes!.includes(LANE[c]))) : new Set(COMPONENTS);
  const hot = new Set(violations.flatMap((v) => v.events));
  // the guest's lanes by VM: an entry that names no VM stays on the lane its correlation last named
  const guestVms = new Set<string>();
  const vmByCorrelation = new Map<string, string>();
  const laneOf = new Map<number, string>();
  for (const e of entries) {
    if (e.component !== 'guest-viommu') continue;
    const vm = vmOf(e) ?? vmByCorrelation.get(e.correlationId);
    if (vm) {
      guestVms.add(vm);
      vmByCorrelation.set(e.correlationId, vm);
      laneOf.set(e.seq, `guest-viommu:${vm}`);
    }
  }
  const split = guestVms.size > 1;
  const lane = (e: LogEntry) => (split && laneOf.get(e.seq)) || e.component;
  const consumedBy = new Map<string, LogEntry>();
  for (const e of entries) if (e.kind === 'input') consumedBy.set((e.payload as Envelope).id, e);

  const labels = new StepLabels();
  const items: Array<Arrow | Mark> = [];
  const used = new Set<string>();
  for (const e of entries) {
    labels.observe(e);
    if (e.seq < w.from || e.seq > w.to || !keep.has(e.component)) continue;
    if (e.kind === 'input') continue;
    const b = brief(e, labels);
    if (e.kind === 'command') {
      const got = consumedBy.get(e.eventId);
      const to = got ? lane(got) : e.to!;
      if (!keep.has(e.to!)) continue;
      items.push({ kind: 'arrow', from: lane(e), to, seq: e.seq, recv: got?.seq ?? null, label: `${e.type}${b ? ` ${b}` : ''}`, hot: hot.has(e.seq) || (got !== undefined && hot.has(got.seq)) });
      used.add(lane(e)).add(to);
      continue;
    }
    if (QUIET.has(e.type)) continue;
    const what = e.type === 'dmesg' ? 'dmesg' : e.type === 'oops' ? 'oops' : 'event';
    const text = what === 'dmesg' ? `${String((e.payload as { text?: unknown }).text)}` : `${e.type}${b ? ` ${b}` : ''}`;
    items.push({ kind: 'mark', lane: lane(e), seq: e.seq, what, label: text, hot: hot.has(e.seq) });
    used.add(lane(e));
  }
  const lanes: Lane[] = [];
  for (const c of COMPONENTS) {
    if (!keep.has(c)) continue;
    if (c === 'guest-viommu' && split) {
      for (const vm of [...guestVms].sort()) if (used.has(`${c}:${vm}`)) lanes.push({ id: `${c}:${vm}`, component: c, vm, label: `${LANE[c]} ${vm}` });
      if (used.has(c)) lanes.push({ id: c, component: c, label: LANE[c] });
    } else lanes.push({ id: c, component: c, label: LANE[c] });
  }
  const inside = entries.filter((e) => e.seq >= w.from && e.seq <= w.to).length;
  const before = entries.filter((e) => e.seq < w.from).length;
  return { title, lanes, items, window: { from: w.from, to: w.to, before, after: entries.length - before - inside }, violations: [...violations] };
}

/** What a diagram left out, said in one line. */
export function leftOut(d: SequenceDiagram): string {
  const w = d.window;
  const parts = [`log entries ${w.from}-${w.to}`];
  if (w.before) parts.push(`${w.before} before left out`);
  if (w.after) parts.push(`${w.after} after left out`);
  return parts.join(', ');
}
