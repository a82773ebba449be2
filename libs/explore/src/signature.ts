import type { LogEntry } from '../../contracts/src/index.js';
import type { Violation } from '../../checkers/src/index.js';

/**
 * Where a violation broke, as a string two runs of the same bug share: the last entry the violation
 * cites (the one that made it a violation) by component and output type, and for a crash the kernel
 * function it names. Ids, PASIDs and addresses are left out: they differ between two programs that
 * reach the same fault.
 */
export function signatureOf(v: Violation, entries: readonly LogEntry[]): string {
  const seq = Math.max(0, ...v.events);
  const e = entries.find((x) => x.seq === seq);
  if (!e) return v.invariant;
  const p = (e.payload ?? {}) as Record<string, unknown>;
  const where = e.kind === 'command' ? `${e.component}>${e.to}:${e.type}` : `${e.component}:${e.type}`;
  return typeof p.fn === 'string' ? `${where}@${p.fn}` : where;
}
