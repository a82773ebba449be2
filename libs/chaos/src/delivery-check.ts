import type { LogEntry } from '../../contracts/src/index.js';

/** One thing the infrastructure lost or doubled, with the log sequence that shows it. */
export interface DeliveryProblem {
  kind: 'lost' | 'duplicated';
  what: string;
  seq: number;
}

export interface DeliveryCheck {
  lost: number;
  duplicated: number;
  problems: DeliveryProblem[];
}

/** Inputs no component sent: the run's start and the orchestrator's own step timers. */
const unsent = (id: string) => id === 'cli.start' || id.startsWith('orch.timeout-');

/**
 * Exactly-once, read off a finished run's log (DESIGN.md §2.3): the sequence has no hole; every input
 * was consumed once (one marker per delivered id); every command recorded was consumed by its receiver,
 * and every input consumed a command that was recorded; no output was recorded twice. That each consumed
 * input's outputs are all there is replay's to say (it re-folds each input and compares).
 */
export function checkDelivery(entries: readonly LogEntry[]): DeliveryCheck {
  const problems: DeliveryProblem[] = [];
  const seen = new Map<string, number>();
  const consumed = new Map<string, number>();
  const commands = new Map<string, LogEntry>();
  let expected = 1;
  for (const e of entries) {
    if (e.seq !== expected) problems.push({ kind: 'lost', what: `entries ${expected}..${e.seq - 1} are missing from the log`, seq: e.seq });
    expected = e.seq + 1;
    const first = seen.get(e.eventId);
    if (first !== undefined) {
      const what = e.kind === 'input' ? `${e.component} consumed ${e.causationId} (${e.type}) twice` : `${e.component}'s ${e.kind} ${e.eventId} (${e.type}) recorded twice`;
      problems.push({ kind: 'duplicated', what: `${what}: at seq ${first} and ${e.seq}`, seq: e.seq });
      continue;
    }
    seen.set(e.eventId, e.seq);
    if (e.kind === 'command') commands.set(e.eventId, e);
    else if (e.kind === 'input' && e.causationId !== null) consumed.set(`${e.component}|${e.causationId}`, e.seq);
  }
  for (const [id, c] of commands) {
    if (!consumed.has(`${c.to}|${id}`)) problems.push({ kind: 'lost', what: `${c.component}'s command ${id} (${c.type}) to ${c.to} was never consumed`, seq: c.seq });
  }
  for (const [key, seq] of consumed) {
    const id = key.slice(key.indexOf('|') + 1);
    if (!unsent(id) && !commands.has(id)) problems.push({ kind: 'duplicated', what: `${key.slice(0, key.indexOf('|'))} consumed ${id}, which no component recorded sending`, seq });
  }
  problems.sort((a, b) => a.seq - b.seq);
  return { lost: problems.filter((p) => p.kind === 'lost').length, duplicated: problems.filter((p) => p.kind === 'duplicated').length, problems };
}
