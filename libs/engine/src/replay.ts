import { COMPONENTS, type Component, type Envelope, type LogEntry, type NewLogEntry } from '../../contracts/src/index.js';
import { initialRuntime, processInput, type ComponentRuntime } from '../../runtime/src/index.js';

/** Where a re-fold first disagrees with the record. */
export interface Divergence {
  seq: number;
  component: string;
  what: string;
  expected: unknown;
  got: unknown;
}

export interface ReplayResult {
  identical: boolean;
  entries: number;
  inputs: number;
  divergence?: Divergence;
  /** per component: inputs folded and the hash of its final state */
  components: Partial<Record<Component, { inputs: number; stateHash?: string }>>;
}

/** The fields replay compares (timestamps and sequence aside): scalars first, then the payload. */
const SCALARS = ['eventId', 'kind', 'type', 'component', 'to', 'causationId', 'correlationId', 'lamport', 'chan', 'stateHash'] as const;

function firstDifference(recorded: NewLogEntry, got: NewLogEntry): { field: string; expected: unknown; got: unknown } | null {
  for (const f of SCALARS) {
    if ((recorded[f] ?? null) !== (got[f] ?? null)) return { field: f, expected: recorded[f] ?? null, got: got[f] ?? null };
  }
  // an input entry's payload is the very envelope that was re-folded: no need to serialise it
  if (recorded.payload !== got.payload && JSON.stringify(recorded.payload) !== JSON.stringify(got.payload)) {
    return { field: 'payload', expected: recorded.payload, got: got.payload };
  }
  return null;
}

/**
 * Re-folds the deciders over the recorded inputs in the recorded order (DESIGN.md §2.4) and compares
 * every output, and each component's state hash after each input, with the record. Feed entries in
 * sequence order (pages are fine); `finish()` gives the verdict.
 */
export class Replayer {
  private readonly rts = new Map<Component, ComponentRuntime>();
  private readonly counts = new Map<Component, number>();
  private expected: NewLogEntry[] = [];
  private last = 0;
  private inputs = 0;
  private divergence?: Divergence;

  /** false once diverged: the rest is not compared */
  feed(e: LogEntry): boolean {
    if (this.divergence) return false;
    if (e.seq !== this.last + 1) return this.diverge(e, 'sequence', this.last + 1, e.seq);
    this.last = e.seq;
    if (this.expected.length) {
      const want = this.expected.shift()!;
      const d = firstDifference(e, want);
      return d ? this.diverge(e, d.field, d.expected, d.got) : true;
    }
    if (e.kind !== 'input') return this.diverge(e, 'kind', e.kind, 'an input (this entry is no replayed input\'s output)');
    const c = e.component;
    const rt = this.rts.get(c) ?? initialRuntime(c);
    let p: ReturnType<typeof processInput>;
    try {
      p = processInput(c, rt, e.payload as Envelope, { hash: e.stateHash !== undefined });
    } catch (err) {
      return this.diverge(e, 'payload', 'an envelope the decider takes', `the decider failed on it: ${(err as Error).message}`);
    }
    this.rts.set(c, p.next);
    this.counts.set(c, (this.counts.get(c) ?? 0) + 1);
    this.inputs++;
    const d = firstDifference(e, p.entries[0]!);
    if (d) return this.diverge(e, d.field, d.expected, d.got);
    this.expected = p.entries.slice(1);
    return true;
  }

  finish(): ReplayResult {
    if (!this.divergence && this.expected.length) {
      const want = this.expected[0]!;
      this.divergence = { seq: this.last + 1, component: want.component, what: 'missing entry: the re-fold produced an output the log does not have', expected: null, got: want };
    }
    const components: ReplayResult['components'] = {};
    for (const c of COMPONENTS) {
      const n = this.counts.get(c);
      if (n) components[c] = { inputs: n };
    }
    return { identical: !this.divergence, entries: this.last, inputs: this.inputs, ...(this.divergence ? { divergence: this.divergence } : {}), components };
  }

  private diverge(e: LogEntry, what: string, expected: unknown, got: unknown): false {
    this.divergence = { seq: e.seq, component: e.component, what, expected, got };
    return false;
  }
}

export function replayEntries(entries: Iterable<LogEntry>): ReplayResult {
  const r = new Replayer();
  for (const e of entries) if (!r.feed(e)) break;
  return r.finish();
}

/**
 * Reads every page even after a divergence: a reader that validates as it goes (an NDJSON file's
 * count, sequences and state hashes) gets to say the file is not whole, which outranks the verdict.
 */
export async function replayPages(pages: AsyncIterable<LogEntry[]>): Promise<ReplayResult> {
  const r = new Replayer();
  let going = true;
  for await (const page of pages) {
    if (!going) continue;
    for (const e of page) if (!(going = r.feed(e))) break;
  }
  return r.finish();
}
