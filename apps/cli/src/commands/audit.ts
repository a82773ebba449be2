import { checkDelivery, type DeliveryProblem } from '../../../../libs/chaos/src/index.js';
import { replayEntries } from '../../../../libs/engine/src/index.js';
import { usage } from '../errors.js';
import { writeJsonResult } from '../json-output.js';
import { openClusterLog, openRunSource } from './log-source.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

interface Audited {
  runId: string;
  entries: number;
  lost: number;
  duplicated: number;
  replayIdentical: boolean;
  problems: DeliveryProblem[];
}

/**
 * `vsva-sim audit`: whether the infrastructure lost or doubled anything in recorded runs (the chaos
 * checker's first question, for runs made elsewhere: the compose chaos profile, a soak): every input
 * consumed once, every command consumed, no hole in the log, and replay identical.
 */
export async function auditCommand(runs: string[], o: { all?: boolean; json?: boolean }): Promise<number> {
  if (o.all && runs.length) throw usage('audit: name runs or --all, not both');
  if (!o.all && !runs.length) throw usage('audit: name at least one run (an id or an exported .ndjson file), or --all for every run in Redis');
  let ids = runs;
  if (o.all) {
    const { log } = await openClusterLog();
    try {
      // only runs that ended: a run still being written has commands not consumed yet
      ids = (await log.listRuns()).filter((m) => m.status === 'finished').map((m) => m.runId);
    } finally {
      await log.close();
    }
    say(`audit: ${ids.length} finished run(s) in Redis`);
  }
  const out: Audited[] = [];
  for (const id of ids) {
    const src = await openRunSource(id);
    try {
      const entries = await src.all();
      const d = checkDelivery(entries);
      const replay = replayEntries(entries);
      out.push({ runId: src.runId, entries: entries.length, lost: d.lost, duplicated: d.duplicated, replayIdentical: replay.identical, problems: d.problems });
      const bad = d.lost || d.duplicated || !replay.identical;
      say(`${src.label}: ${entries.length} entries, lost ${d.lost}, doubled ${d.duplicated}, replay ${replay.identical ? 'identical' : `DIVERGED at #${replay.divergence!.seq}`}`);
      if (bad) for (const p of d.problems.slice(0, 10)) say(`  ${p.kind} at #${p.seq}: ${p.what}`);
    } finally {
      await src.close();
    }
  }
  const ok = out.every((r) => !r.lost && !r.duplicated && r.replayIdentical);
  const sum = (f: (r: Audited) => number) => out.reduce((n, r) => n + f(r), 0);
  say(`audit: ${out.length} run(s): lost ${sum((r) => r.lost)}, doubled ${sum((r) => r.duplicated)}, replay-divergent ${out.filter((r) => !r.replayIdentical).length}: ${ok ? 'ok' : 'NOT ok'}`);
  if (o.json) writeJsonResult({ ok, runs: out.length, lost: sum((r) => r.lost), duplicated: sum((r) => r.duplicated), replayDivergent: out.filter((r) => !r.replayIdentical).length, audited: out });
  return ok ? 0 : 1;
}
