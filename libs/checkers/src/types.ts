import {
  isCommand, isEvent, isInput, typedEntries,
  type CommandEntry, type Component, type EventEntry, type EventType, type InputEntry, type Inputs, type LogEntry, type PolicyValues, type TypedEntry,
} from '../../contracts/src/index.js';

export type { CommandEntry, EventEntry, InputEntry, TypedEntry };

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
 * log: outputs by event id, inputs by (component, causation), entries by (component, type). Every
 * entry is typed by what its component's map says (libs/contracts messages/log.ts): `h.entries`
 * narrows by kind, component and type; `h.events('host-vtd', 'svm.bound')` has the payload
 * `EventPayload<'host-vtd', 'svm.bound'>`.
 */
export class History {
  readonly entries: readonly TypedEntry[];
  readonly byEventId = new Map<string, TypedEntry>();
  private readonly inputByCause = new Map<string, TypedEntry>();
  private readonly byType = new Map<string, TypedEntry[]>();
  constructor(entries: readonly LogEntry[]) {
    this.entries = typedEntries(entries);
    for (const e of this.entries) {
      if (e.kind === 'input') this.inputByCause.set(`${e.component}|${e.causationId}`, e);
      else this.byEventId.set(e.eventId, e);
      // commands by their receiver: their payload is one of its inputs
      const k = `${e.kind}|${e.kind === 'command' ? e.to : e.component}|${e.type}`;
      const list = this.byType.get(k);
      if (list) list.push(e);
      else this.byType.set(k, [e]);
    }
  }
  /** the command entry that sent the envelope an input entry consumed */
  senderOf(input: LogEntry): TypedEntry | undefined {
    return input.causationId ? this.byEventId.get(input.causationId) : undefined;
  }
  /** the input entry that caused an output entry */
  inputOf(out: LogEntry): TypedEntry | undefined {
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
  /** the events of type `type` that `component` recorded, in log order */
  events<C extends Component, K extends EventType<C>>(component: C, type: K): EventEntry<C, K>[] {
    return (this.byType.get(`event|${component}|${type}`) ?? []).filter((e) => isEvent(e, component, type));
  }
  /** the inputs of the given types that `component` consumed, in log order */
  inputs<C extends Component, K extends keyof Inputs[C] & string>(component: C, types: readonly K[]): InputEntry<C, K>[] {
    return types.flatMap((t) => (this.byType.get(`input|${component}|${t}`) ?? []).filter((e) => isInput(e, component, t))).sort((a, b) => a.seq - b.seq);
  }
  /** the commands of type `type` sent to `to`, in log order (the entry's `component` is the sender) */
  commands<To extends Component, K extends keyof Inputs[To] & string>(to: To, type: K): CommandEntry<To, K>[] {
    return (this.byType.get(`command|${to}|${type}`) ?? []).filter((e) => isCommand(e, to, type));
  }
  /** the run's resolved policy values, from the orchestrator's run.started */
  policy(): Partial<PolicyValues> {
    return this.events('orchestrator', 'run.started')[0]?.payload.policy.values ?? {};
  }
}

export const sorted = (seqs: Array<number | undefined>): number[] => [...new Set(seqs.filter((x): x is number => typeof x === 'number'))].sort((a, b) => a - b);

/** A page request group, (RID, PASID, PRG index): as the device keys its outstanding requests (mdev-parent prgKey). */
export const prgKey = (p: { rid: string; pasid: number; prg: number }) => `${p.rid}:${p.pasid}:${p.prg}`;
