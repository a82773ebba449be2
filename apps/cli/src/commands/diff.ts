import { diffRuns } from '../../../../libs/engine/src/diff.js';
import { timelineLine } from '../../../../libs/engine/src/timeline.js';
import { openRunSource } from './log-source.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

/** Where two runs first diverge, and what differs after: exit 0 identical, 1 different. */
export async function diffCommand(a: string, b: string, json: boolean): Promise<number> {
  const [sa, sb] = [await openRunSource(a), await openRunSource(b)];
  try {
    const d = diffRuns(await sa.all(), await sb.all());
    if (json) process.stdout.write(`${JSON.stringify({ a: sa.runId, b: sb.runId, ...d })}\n`);
    if (d.identical) {
      say(`${a} and ${b}: identical (${d.lengths.a} entries; run ids and timestamps aside)`);
      return 0;
    }
    say(`${a} (A, ${d.lengths.a} entries) and ${b} (B, ${d.lengths.b} entries) first diverge at entry #${d.first!.seq}:`);
    say(`  A ${d.first!.a ? timelineLine(d.first!.a) : '(ended)'}`);
    say(`  B ${d.first!.b ? timelineLine(d.first!.b) : '(ended)'}`);
    if (d.outcomes.length) {
      say('outcomes that differ:');
      for (const o of d.outcomes) say(`  step ${o.step} ${o.op}: A ${o.a ?? '(not run)'}, B ${o.b ?? '(not run)'}`);
    }
    if (d.violations.onlyA.length || d.violations.onlyB.length) say(`violations only in A: ${d.violations.onlyA.join(', ') || 'none'}; only in B: ${d.violations.onlyB.join(', ') || 'none'}`);
    if (d.after.length) {
      say('after the divergence (entries per component and type, A vs B):');
      for (const x of d.after.slice(0, 12)) say(`  ${x.key.padEnd(48)} ${String(x.a).padStart(5)} ${String(x.b).padStart(5)}`);
      if (d.after.length > 12) say(`  … ${d.after.length - 12} more`);
    }
    return 1;
  } finally {
    await sa.close();
    await sb.close();
  }
}
