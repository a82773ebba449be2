import { z } from 'zod';
import { resolvePolicy, type LogEntry } from '../../contracts/src/index.js';
import { runEmbedded } from '../../engine/src/index.js';
import { checkHistory, type Violation } from '../../checkers/src/index.js';
import { ScenarioSchema, type Scenario } from '../../scenario/src/index.js';
import { coverageOf } from './coverage.js';
import { signatureOf } from './signature.js';

/**
 * One exploration run, every parameter fixed by the coordinator: what a worker (in this process, a
 * child process or an explore-worker on another machine) needs to run it and nothing else, so a run
 * is a function of its spec and the results do not depend on who ran it.
 */
export interface ExploreRunSpec {
  /** the run's place in the exploration (results are merged in this order) */
  index: number;
  seed: number;
  policy: { preset: string; set: Record<string, string | number | boolean> };
  /** the generated scenario, device faults already in its steps */
  scenario: Scenario;
  /** the scheduler's bias toward its default order (runEmbedded `bias`) */
  bias: number;
  /** delivery faults per job (duplicate, holdBack, crash); healed three quarters of the way in */
  delivery?: { duplicate: number; holdBack: number; crash: number };
}

/** A spec as it arrives from a queue: checked before it runs (a bad payload is an error result, not a crash). */
export const ExploreRunSpecSchema = z.object({
  index: z.number().int().nonnegative(),
  seed: z.number().int(),
  policy: z.object({ preset: z.string(), set: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) }),
  scenario: z.unknown(),
  bias: z.number().min(0).max(1),
  delivery: z.object({ duplicate: z.number().min(0).max(1), holdBack: z.number().min(0).max(1), crash: z.number().min(0).max(1) }).optional(),
});

export interface ExploreViolation extends Violation {
  /** where it broke (signature.ts): with the invariant, what makes two findings the same */
  signature: string;
}

export interface ExploreRunResult {
  index: number;
  violations: ExploreViolation[];
  /** the coverage signals the run reached (coverage.ts) */
  coverage: string[];
  deliveries: number;
  entries: number;
  /** the simulator itself failed on this input: a bug of the model, reported as a finding */
  error?: string;
}

/** Bound on the jobs one generated run may take: past it the run is reported as the simulator's own failure. */
const MAX_DELIVERIES = 200_000;

/** Runs one spec in the embedded engine (no state hashes: a finding is re-run with them when it is shrunk). */
export async function executeRun(raw: ExploreRunSpec): Promise<ExploreRunResult> {
  const empty = { index: typeof raw?.index === 'number' ? raw.index : -1, violations: [], coverage: [], deliveries: 0, entries: 0 };
  const parsed = ExploreRunSpecSchema.safeParse(raw);
  if (!parsed.success) return { ...empty, error: `bad run spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  const spec = parsed.data;
  const sc = ScenarioSchema.safeParse(spec.scenario);
  if (!sc.success) return { ...empty, error: `bad scenario in run spec: ${sc.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  try {
    const policy = resolvePolicy(spec.policy.preset, spec.policy.set);
    const entries = await runSpecEntries(sc.data, policy, spec);
    return resultOf(spec.index, entries.entries, entries.deliveries);
  } catch (e) {
    return { ...empty, error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The run's log: with delivery faults, first the run without them (its length sets when the faults
 * heal), then the faulted run, which must still complete after the heal (the liveness phase).
 */
export async function runSpecEntries(scenario: Scenario, policy: ReturnType<typeof resolvePolicy>, spec: Pick<ExploreRunSpec, 'index' | 'seed' | 'bias' | 'delivery'>, hash = false): Promise<{ entries: LogEntry[]; deliveries: number }> {
  const base = { runId: `explore-${spec.index}`, scenario, policy, seed: spec.seed, bias: spec.bias, hash, maxDeliveries: MAX_DELIVERIES };
  const clean = await runEmbedded(base);
  const d = spec.delivery;
  if (!d || !(d.duplicate || d.holdBack || d.crash)) return clean;
  const healAt = Math.max(1, Math.floor(clean.deliveries * 0.75));
  return runEmbedded({ ...base, faults: { ...d, healAt } });
}

export function resultOf(index: number, entries: LogEntry[], deliveries: number): ExploreRunResult {
  const { violations } = checkHistory(entries);
  return {
    index,
    violations: violations.map((v) => ({ ...v, signature: signatureOf(v, entries) })),
    coverage: [...coverageOf(entries)],
    deliveries,
    entries: entries.length,
  };
}
