import type { LogEntry, ResolvedPolicy } from '../../../contracts/src/index.js';
import { checkHistory, type Violation } from '../../../checkers/src/index.js';
import { runEmbedded } from '../../../engine/src/index.js';
import type { Scenario } from '../../../scenario/src/index.js';
import { scenarioDoc, parseDoc, type ScenarioDoc } from '../../../scenario/src/index.js';
import { bare, findingDoc, policyLabel } from './finding.js';
import { docYaml } from '../../../scenario/src/index.js';
import { Shrinker, type Holds, type Progress, type Schedule } from './shrinker.js';
import { shrinkArguments } from './simplify.js';
import { sizeOf, type Size } from './size.js';
import { shrinkSetup, shrinkSteps, shrinkTopology, shrinkWorkload } from './structure.js';

export interface ShrinkOptions {
  policy: ResolvedPolicy;
  seed: number;
  bias?: number;
  /** the invariant the finding breaks: the default predicate is "some violation of it" */
  invariant: string;
  /** a stricter predicate (same invariant and signature, say) */
  holds?: Holds;
  /** bound on candidate runs (default 3000): past it the smallest so far is the result, `budgetHit` says so */
  maxRuns?: number;
  onProgress?: (p: Progress) => void;
  /** where the finding came from (a file, a run id), said in the shrunk file's description */
  source?: string;
  /** the run id of the shrunk run's log (default `shrink`) */
  runId?: string;
}

export interface ShrinkResult {
  /** the shrunk scenario, with its description and verdicts */
  scenario: Scenario;
  /** the same as its file says it, and the file */
  doc: ScenarioDoc;
  yaml: string;
  /** the shrunk run's log */
  entries: LogEntry[];
  /** the schedule that reproduces it: no bias is what `vsva-sim run --seed S` does; bias 1 is the default order */
  seed: number;
  bias?: number;
  /** the shrunk run's violations of the invariant */
  violations: Violation[];
  /** embedded runs spent, the final check included */
  runs: number;
  budgetHit: boolean;
  before: Size;
  after: Size;
}

/** The input does not show the finding under the schedule given. */
export class NotReproducedError extends Error {}

const same = (a: Schedule, b: Schedule) => a.seed === b.seed && a.bias === b.bias;

/**
 * Delta debugging of a scenario while it still breaks `o.invariant` (or `o.holds`), over: the
 * topology (VMs, parents, mdevs, each with what names it), setup done by steps back to automatic, the
 * steps, the background workload and the arguments; in rounds until one changes nothing. The
 * scheduler goes first: the default order (bias 1), else `vsva-sim run`'s default seed 1, else the
 * finding's own schedule, which is kept only when the order matters. Once shrunk, a schedule that
 * `vsva-sim run` replays (no bias: seed 1, else the finding's seed) is preferred when it holds too.
 * Deterministic: the same input gives the same result.
 */
export async function shrinkScenario(sc: Scenario, o: ShrinkOptions): Promise<ShrinkResult> {
  const holds: Holds = o.holds ?? ((vs) => vs.some((v) => v.invariant === o.invariant));
  const start = bare(scenarioDoc(sc));
  const given: Schedule = { seed: o.seed, ...(o.bias === undefined ? {} : { bias: o.bias }) };
  const s = new Shrinker(start, given, { policy: o.policy, holds, maxRuns: o.maxRuns ?? 3000, onProgress: o.onProgress });
  if (!(await s.start())) {
    throw new NotReproducedError(`${sc.name} does not break ${o.invariant} under ${policyLabel(o.policy)} with seed ${o.seed}${o.bias === undefined ? '' : ` and bias ${o.bias}`} (its expect: fields dropped)`);
  }
  const simplest: Schedule[] = [{ seed: 1, bias: 1 }, { seed: 1 }];
  const simplerSchedule = async () => {
    s.dimension = 'scheduler';
    for (const c of simplest) if (same(s.schedule, c) || (await s.attempt(s.doc, c))) return;
  };
  await simplerSchedule();
  for (let round = JSON.stringify(s.doc), last = ''; round !== last && !s.budgetHit; last = round, round = JSON.stringify(s.doc)) {
    await shrinkTopology(s);
    await shrinkSetup(s);
    await shrinkSteps(s);
    await shrinkWorkload(s);
    await shrinkArguments(s);
  }
  // the shrunk scenario may no longer need the finding's order; and `vsva-sim run` has no bias to give
  if (!simplest.some((c) => same(s.schedule, c))) await simplerSchedule();
  if (s.schedule.bias !== undefined) {
    for (const c of [{ seed: 1 }, ...(o.bias === undefined && o.seed !== 1 ? [{ seed: o.seed }] : [])]) if (await s.attempt(s.doc, c)) break;
  }

  const message = checkHistory(s.entries).violations.find((v) => holds([v], s.entries))?.message;
  const doc = findingDoc(s.doc, { policy: o.policy, schedule: s.schedule, invariant: o.invariant, message, source: o.source });
  const scenario = parseDoc(doc);
  if (!scenario) throw new Error(`shrink of ${sc.name}: the finding's file is not a scenario (a bug of finding.ts)`);
  // the final run as `vsva-sim run` does it: the file's own scenario, state hashes on
  const { entries } = await runEmbedded({ runId: o.runId ?? 'shrink', scenario, policy: o.policy, seed: s.schedule.seed, bias: s.schedule.bias });
  const violations = checkHistory(entries).violations;
  if (!holds(violations, entries)) throw new Error(`shrink of ${sc.name}: the shrunk scenario no longer breaks ${o.invariant} once described (a bug of shrink)`);
  return {
    scenario, doc, yaml: docYaml(doc), entries, seed: s.schedule.seed, ...(s.schedule.bias === undefined ? {} : { bias: s.schedule.bias }),
    violations: violations.filter((v) => v.invariant === o.invariant), runs: s.runs + 1, budgetHit: s.budgetHit, before: sizeOf(start), after: sizeOf(s.doc),
  };
}
