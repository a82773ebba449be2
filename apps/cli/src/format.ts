import { formatRet } from '../../../libs/contracts/src/index.js';
import type { RunReport } from '../../../libs/engine/src/report.js';

/** The human summary of a run, printed after the timeline. */
export function formatReport(r: RunReport): string {
  const lines: string[] = [];
  const pol = `${r.policy.preset}${Object.keys(r.policy.overrides).length ? ` + ${Object.entries(r.policy.overrides).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`;
  lines.push('');
  lines.push(`verdict: ${r.verdict === 'pass' ? 'PASS' : 'FAIL'}   scenario ${r.scenario.name} · policy ${pol} · engine ${r.engine} · seed ${r.seed} · run ${r.runId}`);
  for (const v of r.violations) lines.push(`  ✖ ${v.invariant}: ${v.message}  [log ${v.events.map((s) => `#${s}`).join(' ')}]`);
  lines.push('outcomes:');
  for (const o of r.outcomes.filter((x) => x.phase === 'scenario')) {
    const val = o.value !== undefined ? ` (value ${o.value})` : '';
    const ret = o.result === 'oops' ? 'host oops' : o.ret < 0 ? formatRet(o.ret) : `ok${val}`;
    const exp = o.expected ? (o.asExpected ? `  as expected` : `  EXPECTED ${o.expected}`) : '';
    lines.push(`  step ${o.scenarioIndex} ${o.op.padEnd(24)} ${ret}${exp}   [log #${o.seq}]`);
  }
  const setupFailed = r.outcomes.filter((x) => x.phase === 'setup' && x.ret < 0);
  for (const o of setupFailed) lines.push(`  setup ${o.op} failed: ${formatRet(o.ret)}`);
  lines.push(`checked: ${r.checked.join(', ')}`);
  lines.push(`stats: ${Object.entries(r.stats).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  lines.push(`reproduce: ${r.reproduce}`);
  return lines.join('\n');
}
