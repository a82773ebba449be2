import type { LogEntry } from '../../contracts/src/index.js';

export interface Violation {
  invariant: string;
  message: string;
  /** log sequences that prove it */
  events: number[];
}

/** An invariant over a run's history (DOMAIN.md §6), Jepsen-style: it reads the log, nothing else. */
export interface Checker {
  name: string;
  check(h: History): Violation[];
}

/**
 * The log with the lookups every checker needs, indexed once so each checker stays linear in the
 * log: outputs by event id, inputs by (component, causation), entries by (component, type).
 */
export class History {
  readonly byEventId = new Map<string, LogEntry>();
  private readonly inputByCause = new Map<string, LogEntry>();
  private readonly byType = new Map<string, LogEntry[]>();
  constructor(readonly entries: LogEntry[]) {
    for (const e of entries) {
      if (e.kind === 'input') this.inputByCause.set(`${e.component}|${e.causationId}`, e);
      else this.byEventId.set(e.eventId, e);
      const k = `${e.kind}|${e.component}|${e.type}`;
      const list = this.byType.get(k);
      if (list) list.push(e);
      else this.byType.set(k, [e]);
    }
  }
  /** the command entry that sent the envelope an input entry consumed */
  senderOf(input: LogEntry): LogEntry | undefined {
    return input.causationId ? this.byEventId.get(input.causationId) : undefined;
  }
  /** the input entry that caused an output entry */
  inputOf(out: LogEntry): LogEntry | undefined {
    return this.inputByCause.get(`${out.component}|${out.causationId}`);
  }
  /** the chain of entries back to the scenario step: output, its input, the command that sent it, ... */
  chain(e: LogEntry, depth = 3): number[] {
    const seqs: number[] = [];
    let cur: LogEntry | undefined = e;
    while (cur && depth-- > 0) {
      seqs.push(cur.seq);
      const input: LogEntry | undefined = cur.kind === 'input' ? cur : this.inputOf(cur);
      if (input && input !== cur) seqs.push(input.seq);
      cur = input ? this.senderOf(input) : undefined;
    }
    return [...new Set(seqs)].sort((a, b) => a - b);
  }
  events(component: string, type: string): LogEntry[] {
    return this.byType.get(`event|${component}|${type}`) ?? [];
  }
  inputs(component: string, types: readonly string[]): LogEntry[] {
    return types.flatMap((t) => this.byType.get(`input|${component}|${t}`) ?? []).sort((a, b) => a.seq - b.seq);
  }
  commands(component: string, type: string): LogEntry[] {
    return this.byType.get(`command|${component}|${type}`) ?? [];
  }
  /** the run's resolved policy values, from the orchestrator's run.started */
  policy(): Record<string, unknown> {
    const started = this.events('orchestrator', 'run.started')[0];
    return ((started?.payload as { policy?: { values?: Record<string, unknown> } })?.policy?.values) ?? {};
  }
}

export const payload = <T = Record<string, unknown>>(e: LogEntry): T => e.payload as T;
export const sorted = (seqs: Array<number | undefined>): number[] => [...new Set(seqs.filter((x): x is number => typeof x === 'number'))].sort((a, b) => a - b);
