import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePolicy, type LogEntry } from '../../contracts/src/index.js';
import type { Violation } from '../../checkers/src/index.js';
import {
  DOCUMENTED_QUIRKS, explore, inlinePool, newState, NotReproducedError, policyLabel, shrinkScenario, signatureOf, type ExploreState, type Finding,
} from '../../explore/src/index.js';
import { loadScenario, type Scenario } from '../../scenario/src/index.js';
import type { LocalContext } from './context.js';
import { entryFigure, goalsOf, mainlineFinding, speedUpOf, summarize, type EntryResult, type Search } from './explore-summary.js';
import type { MainlineResult } from './explore-table.js';
import { round } from './stats.js';
import type { Figure } from './types.js';

/** The corpus's scenarios/ folder: the package's, wherever this file was built to. */
function scenariosDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scenarios'))) return join(dir, 'scenarios');
    if (dirname(dir) === dir) throw new Error('bench: no scenarios/ folder above libs/bench (the bug table is read from it)');
  }
}

/** The bug-table entries the model expresses: each scenario file with a `bug:` block, by entry number. */
export function bugScenarios(dir = scenariosDir()): Scenario[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => loadScenario(join(dir, f))).filter((sc) => sc.bug).sort((a, b) => a.bug!.id - b.bug!.id);
}

/** One exploration with no scenario file, until the cap or (given an invariant) its first finding of that invariant. */
async function search(policy: ExploreState['policy'], mode: ExploreState['mode'], seed: number, invariant: string | undefined, cap: { ms: number; runs?: number }) {
  const st = newState(seed, policy, mode);
  const status = await explore(st, { pool: inlinePool(), budget: cap, ...(invariant ? { stopWhen: (f: Finding) => f.invariant === invariant } : {}) });
  const hit = invariant ? [...st.findings.values()].find((f) => f.invariant === invariant) : undefined;
  return { st, status, hit };
}

/** Shrunk the way `explore` shrinks a finding: the same invariant broken at the same place. */
async function shrinkOf(f: Finding, maxRuns: number): Promise<EntryResult['shrunk']> {
  const holds = (vs: Violation[], entries: LogEntry[]) => vs.some((v) => v.invariant === f.invariant && signatureOf(v, entries) === f.signature);
  try {
    const r = await shrinkScenario(f.scenario, { policy: resolvePolicy(f.policy.preset, f.policy.set), seed: f.seed, bias: f.bias, invariant: f.invariant, holds, maxRuns });
    return { steps: r.scenario.steps.length, runs: r.runs, budgetHit: r.budgetHit, seed: r.seed };
  } catch (e) {
    if (!(e instanceof NotReproducedError)) throw e;
    return { error: e.message };
  }
}

/**
 * 7. Exploration (issue 12, point 8): for each bug-table entry, explore under its buggy policy from
 * each seed, guided and uniform (the peer, interleaved per seed), until the bug's invariant or the
 * cap; the first guided finding shrunk. Then mainline for a fixed budget, its findings each a
 * documented quirk or open.
 */
export async function measureExplore(ctx: LocalContext): Promise<{ figures: Figure[]; mainline: MainlineResult }> {
  const p = ctx.plan.explore;
  const pr = ctx.progress;
  const bugs = bugScenarios();
  const cap = { ms: p.capS * 1000, runs: p.capRuns };
  pr.phase('7. explore', bugs.length * (p.seeds.length * 2 + 1) + 1);
  pr.note(`${bugs.length} bug-table entries x ${p.seeds.length} seed(s), guided and uniform, each search capped at ${p.capS} s or ${p.capRuns} runs; then mainline for ${p.mainlineS} s`);
  const figures: Figure[] = [];
  for (const sc of bugs) {
    const bug = sc.bug!;
    const policy = { preset: bug.buggy, set: bug.buggySet ?? {} };
    const label = policyLabel(resolvePolicy(policy.preset, policy.set));
    const sides: Record<'guided' | 'uniform', Search[]> = { guided: [], uniform: [] };
    let first: Finding | undefined;
    for (const seed of p.seeds) {
      for (const mode of ['guided', 'uniform'] as const) {
        const { status, hit } = await search(policy, mode, seed, bug.invariant, cap);
        const s: Search = hit ? { seed, found: true, s: round(hit.foundAfterS), runs: hit.foundAfterRuns } : { seed, found: false, s: round(status.elapsedMs / 1000), runs: status.runs };
        sides[mode].push(s);
        if (mode === 'guided' && hit) first ??= hit;
        pr.tick(`#${bug.id} ${bug.invariant} (${label}) ${mode} seed ${seed}: ${s.found ? `found in ${s.s} s, ${s.runs} runs` : `not found in ${s.s} s, ${s.runs} runs`}`);
      }
    }
    const shrunk = first ? await shrinkOf(first, p.shrinkRuns) : null;
    pr.tick(`#${bug.id} shrink: ${!shrunk ? 'nothing found to shrink' : 'error' in shrunk ? shrunk.error : `${shrunk.steps} step(s) in ${shrunk.runs} runs (hand-written: ${sc.steps.length})`}`);
    const guided = summarize(sides.guided);
    const uniform = summarize(sides.uniform);
    const speedUp = speedUpOf(guided, uniform, p.capS);
    figures.push(entryFigure({
      bug: { id: bug.id, title: bug.title, invariant: bug.invariant, scenario: sc.name, policy: label, preset: policy.preset, set: policy.set },
      capS: p.capS, guided, uniform, speedUp, shrunk, handWrittenSteps: sc.steps.length, goals: goalsOf(guided, speedUp, p.capS),
    }));
  }
  const mainline = await exploreMainline(p.mainlineS);
  pr.tick(`mainline: ${mainline.runs} runs, ${mainline.findings.length} finding(s), ${mainline.findings.filter((f) => f.status === 'open').length} open`);
  return { figures, mainline };
}

/** Mainline, guided, seed 1, for a fixed time: every distinct finding (no quirk hidden), each marked. */
async function exploreMainline(budgetS: number): Promise<MainlineResult> {
  const seed = 1;
  const { st, status } = await search({ preset: 'mainline', set: {} }, 'guided', seed, undefined, { ms: budgetS * 1000 });
  return {
    seed, budgetS, runs: status.runs, elapsedS: round(status.elapsedMs / 1000), coverage: status.coverage, simulatorErrors: status.errors,
    findings: [...st.findings.values()].map((f) => mainlineFinding(f, DOCUMENTED_QUIRKS)),
  };
}
