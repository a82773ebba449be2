import { replayPages } from '../../../../libs/engine/src/index.js';
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
    const r = await replayPages(src.pages());
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
    if (json) process.stdout.write(`${JSON.stringify({ runId: src.runId, ...r, seconds: secs, entriesPerSecond: rate })}\n`);
    return r.identical ? 0 : 1;
  } finally {
    await src.close();
  }
}
