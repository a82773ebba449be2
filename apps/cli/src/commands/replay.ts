import type { LogEntry } from '../../../../libs/contracts/src/index.js';
import { replayPages } from '../../../../libs/engine/src/index.js';
import { chaosOf } from '../../../../libs/runtime/src/index.js';
import { openRunSource } from './log-source.js';

const say = (s: string) => process.stderr.write(`${s}\n`);
const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s.length > 400 ? `${s.slice(0, 400)}…` : s;
};

/** Re-folds a recorded run and compares every output: exit 0 identical, 1 diverged. */
export async function replayCommand(arg: string, json: boolean): Promise<number> {
  const src = await openRunSource(arg);
  try {
    const t0 = process.hrtime.bigint();
    let first: LogEntry | undefined;
    const r = await replayPages(seeFirst(src.pages(), (e) => (first = e)));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const rate = Math.round(r.entries / Math.max(secs, 1e-9));
    if (r.identical) {
      say(`replay ${src.label}: identical — ${r.entries} entries, ${r.inputs} inputs re-folded (${Object.entries(r.components).map(([c, x]) => `${c} ${x!.inputs}`).join(', ')}) in ${secs.toFixed(2)} s, ${rate} entries/s`);
    } else {
      const d = r.divergence!;
      say(`replay ${src.label}: DIVERGED at log entry #${d.seq} (${d.component}): ${d.what}`);
      say(`  recorded: ${show(d.expected)}`);
      say(`  re-fold:  ${show(d.got)}`);
    }
    // a chaos run recorded its fault parameters in its first entry
    const chaos = first && chaosOf([first]);
    if (chaos) say(`  chaos run: faults ${chaos.faults}${chaos.devices.length ? `; device faults ${chaos.devices.map((d) => `${d.kind} on ${d.target} at step ${d.step}`).join(', ')}` : ''}`);
    if (json) process.stdout.write(`${JSON.stringify({ runId: src.runId, ...r, ...(chaos ? { chaos } : {}), seconds: secs, entriesPerSecond: rate })}\n`);
    return r.identical ? 0 : 1;
  } finally {
    await src.close();
  }
}

async function* seeFirst(pages: AsyncIterable<LogEntry[]>, see: (e: LogEntry) => void): AsyncIterable<LogEntry[]> {
  let seen = false;
  for await (const page of pages) {
    if (!seen && page.length) {
      see(page[0]!);
      seen = true;
    }
    yield page;
  }
}
