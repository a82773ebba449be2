import { resolvePolicy, type Envelope, type LogEntry, type PolicyValue } from '../../libs/contracts/src/index.js';
import { buildReport, type RunReport } from '../../libs/runtime/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { loadScenario, parseScenario, type Scenario } from '../../libs/scenario/src/index.js';

export interface Ran {
  report: RunReport;
  entries: LogEntry[];
}

/** Runs a scenario (file path or YAML text) in the embedded engine and checks its history. */
export async function run(src: string | Scenario, preset: string, sets: Record<string, PolicyValue> = {}, seed = 1): Promise<Ran> {
  const scenario = typeof src === 'string' ? (src.endsWith('.yaml') ? loadScenario(src) : parseScenario(src, 'inline.yaml')) : src;
  const policy = resolvePolicy(preset, sets);
  const r = await runEmbedded({ runId: `t-${scenario.name}-${preset}-${seed}`, scenario, policy, seed, hash: false });
  const report = buildReport({ runId: 'test', entries: r.entries, scenario: { name: scenario.name }, policy, engine: 'embedded', seed, wallMs: 0, reproduce: '' });
  return { report, entries: r.entries };
}

export const payloadOf = (e: LogEntry) => (e.kind === 'input' ? (e.payload as Envelope).payload : e.payload) as Record<string, unknown>;
export const at = (ran: Ran, seq: number) => ran.entries[seq - 1]!;
export const scenarioOutcomes = (ran: Ran) => ran.report.outcomes.filter((o) => o.phase === 'scenario').map((o) => o.result);
