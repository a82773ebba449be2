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

/** The log with the lookups every checker needs. */
export class History {
  readonly byEventId = new Map<string, LogEntry>();
  constructor(readonly entries: LogEntry[]) {
    for (const e of entries) if (e.kind !== 'input') this.byEventId.set(e.eventId, e);
  }
  /** the command entry that sent the envelope an input entry consumed */
  senderOf(input: LogEntry): LogEntry | undefined {
    return input.causationId ? this.byEventId.get(input.causationId) : undefined;
  }
  /** the input entry that caused an output entry */
  inputOf(out: LogEntry): LogEntry | undefined {
    return this.entries.find((e) => e.kind === 'input' && e.component === out.component && e.causationId === out.causationId);
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
    return this.entries.filter((e) => e.kind === 'event' && e.component === component && e.type === type);
  }
  inputs(component: string, types: readonly string[]): LogEntry[] {
    return this.entries.filter((e) => e.kind === 'input' && e.component === component && types.includes(e.type));
  }
}
