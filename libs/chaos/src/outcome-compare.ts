import type { LogEntry, PlannedStep } from '../../contracts/src/index.js';
import type { RunReport } from '../../runtime/src/index.js';

/** The run's plan, as the orchestrator recorded it in run.started. */
export function planOf(entries: readonly LogEntry[]): PlannedStep[] {
  const started = entries.find((e) => e.component === 'orchestrator' && e.kind === 'event' && e.type === 'run.started');
  return (started?.payload as { plan?: PlannedStep[] } | undefined)?.plan ?? [];
}

/**
 * What a guest and a reviewer see of a run, where it must not depend on the infrastructure: the
 * verdict, which invariants broke, and what each foreground step returned. Background steps (device
 * DMA, page requests) meet the control path wherever the interleaving puts them, so what they return
 * may differ between two schedules of the same run, faults or none (test/chaos shows it).
 */
export function guestVisibleDifferences(reference: RunReport, refEntries: readonly LogEntry[], got: RunReport): string[] {
  const out: string[] = [];
  if (reference.verdict !== got.verdict) out.push(`verdict ${got.verdict}, without the faults ${reference.verdict}`);
  const inv = (r: RunReport) => [...new Set(r.violations.map((v) => v.invariant))].sort().join(', ') || 'none';
  if (inv(reference) !== inv(got)) out.push(`invariants broken: ${inv(got)}, without the faults ${inv(reference)}`);
  // the steps that ran in the background: their results depend on the interleaving, by design
  const bg = new Set(planOf(refEntries).flatMap((p, k) => (p.background ? [k] : [])));
  const results = new Map(got.outcomes.map((o) => [o.step, o.result]));
  for (const o of reference.outcomes) {
    if (bg.has(o.step)) continue;
    const r = results.get(o.step);
    if (r !== o.result) out.push(`step ${o.step} (${o.op}) returned ${r ?? 'nothing'}, without the faults ${o.result}`);
  }
  return out;
}
