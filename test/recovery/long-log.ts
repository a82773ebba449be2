import { resolvePolicy, type Component, type Envelope, type LogEntry } from '../../libs/contracts/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { initialRuntime, processInput, type ComponentRuntime } from '../../libs/runtime/src/index.js';
import type { AppendBatch, RedisRunLog } from '../../libs/event-log/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

export const LOOP_SCENARIO = 'test/fixtures/scenarios/pasid-bind-loop.yaml';

/** The loop scenario with its rounds repeated `times` over, run by the embedded engine (no state hashes: fast). */
export async function embeddedLoop(runId: string, times: number): Promise<LogEntry[]> {
  const sc = loadScenario(LOOP_SCENARIO);
  const scenario = { ...sc, steps: Array.from({ length: times }, () => sc.steps).flat() };
  return (await runEmbedded({ runId, scenario, policy: resolvePolicy('v3'), seed: 1, hash: false })).entries;
}

/** The loop repeated just often enough to record at least `minEntries` entries. */
export async function embeddedLoopOf(runId: string, minEntries: number): Promise<LogEntry[]> {
  const one = (await embeddedLoop(runId, 1)).length;
  const perRound = (await embeddedLoop(runId, 2)).length - one;
  return embeddedLoop(runId, 1 + Math.max(0, Math.ceil((minEntries - one) / perRound)));
}

/** Writes an embedded run into a Redis log as the cluster would have: each input with its outputs, under its marker. */
export async function writeRun(log: RedisRunLog, runId: string, entries: readonly LogEntry[]): Promise<void> {
  const batches: AppendBatch[] = [];
  for (const e of entries) {
    if (e.kind === 'input') batches.push({ markerId: `${e.component}|${(e.payload as Envelope).id}`, entries: [] });
    batches[batches.length - 1]!.entries.push(e);
  }
  for (let i = 0; i < batches.length; i += 5000) await log.appendMany(runId, batches.slice(i, i + 5000));
}

/** A component's runtime after its inputs up to `untilSeq` (all when absent), folded in memory; with the last input's seq and id. */
export function foldInMemory(component: Component, entries: readonly LogEntry[], untilSeq = Infinity) {
  let runtime: ComponentRuntime = initialRuntime(component);
  let inputs = 0;
  let last: LogEntry | undefined;
  for (const e of entries) {
    if (e.seq > untilSeq) break;
    if (e.kind !== 'input' || e.component !== component) continue;
    runtime = processInput(component, runtime, e.payload as Envelope, { hash: false }).next;
    inputs++;
    last = e;
  }
  return { runtime, inputs, lastSeq: last?.seq ?? 0, lastEventId: last?.eventId };
}
