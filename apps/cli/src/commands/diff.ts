import { diffRuns, timelineLine, type ComponentComparison, type RunDiff } from '../../../../libs/engine/src/index.js';
import { openRunSource } from './log-source.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

const ASIDE = {
  behaviour: 'per component, in its consumption order; run ids, timestamps, sequences and Lamport clocks aside',
  strict: 'entry by entry in the global interleaving; run ids and timestamps aside',
} as const;

function summary(d: RunDiff): void {
  if (d.outcomes.length) {
    say('outcomes that differ:');
    for (const o of d.outcomes) say(`  step ${o.step} ${o.op}: A ${o.a ?? '(not run)'}, B ${o.b ?? '(not run)'}`);
  }
  if (d.violations.onlyA.length || d.violations.onlyB.length) say(`violations only in A: ${d.violations.onlyA.join(', ') || 'none'}; only in B: ${d.violations.onlyB.join(', ') || 'none'}`);
  if (d.after.length) {
    say(`after the divergence (${d.mode === 'behaviour' ? 'in the diverging components, ' : ''}entries per component and type, A vs B):`);
    for (const x of d.after.slice(0, 12)) say(`  ${x.key.padEnd(48)} ${String(x.a).padStart(5)} ${String(x.b).padStart(5)}`);
    if (d.after.length > 12) say(`  … ${d.after.length - 12} more`);
  }
}

/**
 * How two runs differ: exit 0 identical, 1 different. By default their behaviour (per component, in
 * each component's consumption order), so two schedules of one run are identical; `strict` compares
 * the global interleaving.
 */
export async function diffCommand(a: string, b: string, json: boolean, strict = false): Promise<number> {
  const [sa, sb] = [await openRunSource(a), await openRunSource(b)];
  try {
    const d = diffRuns(await sa.all(), await sb.all(), { mode: strict ? 'strict' : 'behaviour' });
    if (json) process.stdout.write(`${JSON.stringify({ a: sa.runId, b: sb.runId, ...d })}\n`);
    const hashes = d.stateHashes ? `; state hashes ${d.stateHashes.compared ? 'compared' : 'not compared'}: ${d.stateHashes.why}` : '';
    if (d.identical) {
      say(d.mode === 'behaviour'
        ? `${a} and ${b}: behave identically (${d.lengths.a} and ${d.lengths.b} entries; ${ASIDE.behaviour}${hashes})`
        : `${a} and ${b}: identical (${d.lengths.a} entries; ${ASIDE.strict})`);
      return 0;
    }
    if (d.mode === 'strict') {
      say(`${a} (A, ${d.lengths.a} entries) and ${b} (B, ${d.lengths.b} entries) first diverge at entry #${d.first!.seq} (${ASIDE.strict}):`);
      say(`  A ${d.first!.a ? timelineLine(d.first!.a) : '(ended)'}`);
      say(`  B ${d.first!.b ? timelineLine(d.first!.b) : '(ended)'}`);
    } else {
      say(`${a} (A, ${d.lengths.a} entries) and ${b} (B, ${d.lengths.b} entries) behave differently (${ASIDE.behaviour}${hashes}):`);
      // the diverging components first, in the order of their first differing entry
      const at = (c: ComponentComparison) => c.divergence ? Math.min(c.divergence.a?.seq ?? Infinity, c.divergence.b?.seq ?? Infinity) : Infinity;
      for (const c of [...d.components!].sort((x, y) => at(x) - at(y))) {
        const v = c.divergence;
        if (!v) {
          say(`  ${c.component.padEnd(13)} same (${c.inputs.a} inputs)`);
          continue;
        }
        const seq = (s: number | null) => (s === null ? '-' : `#${s}`);
        say(`  ${c.component.padEnd(13)} input ${v.position} (A ${seq(v.seq.a)}, B ${seq(v.seq.b)}): ${v.what}`);
        say(`    A ${v.a ? timelineLine(v.a) : '(none)'}`);
        say(`    B ${v.b ? timelineLine(v.b) : '(none)'}`);
      }
      const f = d.first!;
      say(`first divergence: #${f.seq}, ${f.component} input ${f.position} (${f.what})`);
    }
    summary(d);
    return 1;
  } finally {
    await sa.close();
    await sb.close();
  }
}
