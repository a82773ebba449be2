import { formatRet } from '../../../libs/contracts/src/index.js';
import type { RunReport, StepOutcome } from '../../../libs/runtime/src/index.js';
import { stepLabel } from '../../../libs/engine/src/index.js';

/** What a step returned, in words: a timed-out step never returned, whatever its recorded ret. */
function resultText(o: StepOutcome): string {
  if (o.result === 'oops') return 'host oops';
  if (o.result === 'timeout') return 'timeout (never completed)';
  if (o.ret < 0) return formatRet(o.ret);
  return `ok${o.value !== undefined ? ` (value ${o.value})` : ''}`;
}

/** The human summary of a run, printed after the timeline. */
export function formatReport(r: RunReport): string {
  const lines: string[] = [];
  const pol = `${r.policy.preset}${Object.keys(r.policy.overrides).length ? ` + ${Object.entries(r.policy.overrides).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`;
  lines.push('');
  lines.push(`verdict: ${r.verdict === 'pass' ? 'PASS' : 'FAIL'}   scenario ${r.scenario.name} · policy ${pol} · engine ${r.engine} · seed ${r.seed} · run ${r.runId}`);
  for (const v of r.violations) lines.push(`  ✖ ${v.invariant}: ${v.message}  [log ${v.events.map((s) => `#${s}`).join(' ')}]`);
  lines.push('outcomes:');
  // each step named as the timeline names it: steps[i] (the scenario file's list) and plan[i] (the log's `step`)
  const scenarioSteps = r.outcomes.filter((x) => x.phase === 'scenario');
  const width = scenarioSteps.reduce((w, o) => Math.max(w, stepLabel(o.step, o).length), 0);
  for (const o of scenarioSteps) {
    const exp = o.expected ? (o.asExpected ? `  as expected` : `  EXPECTED ${o.expected}`) : '';
    lines.push(`  ${stepLabel(o.step, o).padEnd(width)} ${o.op.padEnd(24)} ${resultText(o)}${exp}   [log #${o.seq}]`);
  }
  const setupFailed = r.outcomes.filter((x) => x.phase === 'setup' && (x.ret < 0 || x.result === 'oops' || x.result === 'timeout'));
  for (const o of setupFailed) lines.push(`  ${stepLabel(o.step, o)} ${o.op} failed: ${resultText(o)}`);
  if (r.dmesg.length) {
    lines.push(`dmesg (host kernel: ${r.policy.kernel}):`);
    for (const d of r.dmesg) lines.push(`  <${d.level}> ${d.text}   [${d.component} log #${d.seq}]`);
  }
  if (r.chaos) lines.push(`chaos: faults ${r.chaos.faults}${r.chaos.devices.length ? `; device faults ${r.chaos.devices.map((d) => `${d.kind} on ${d.target} at step ${d.step}`).join(', ')}` : ''}`);
  lines.push(`checked: ${r.checked.join(', ')}`);
  lines.push(`stats: ${Object.entries(r.stats).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  lines.push(`reproduce: ${r.reproduce}`);
  return lines.join('\n');
}
