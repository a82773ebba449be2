import { describe, expect, it } from 'vitest';
import {
  entryFigure, formatExplore, formatTable, goalsOf, mainlineFinding, speedUpOf, summarize, type BenchResult, type EntryResult, type Search,
} from '../../libs/bench/src/index.js';
import type { Finding } from '../../libs/explore/src/index.js';

// The exploration benchmark's arithmetic and table, from made-up searches: what a reader of the
// figure relies on (a search that hit the cap is "more than the cap", never a time).

const found = (seed: number, s: number, runs: number): Search => ({ seed, found: true, s, runs });
const capped = (seed: number, s = 10, runs = 900): Search => ({ seed, found: false, s, runs });

function entry(guided: Search[], uniform: Search[], capS = 10): EntryResult {
  const g = summarize(guided);
  const u = summarize(uniform);
  const speedUp = speedUpOf(g, u, capS);
  return {
    bug: { id: 9, title: 't', invariant: 'no-stale-translation', scenario: 'devtlb-pasid-flush-user-range', policy: 'v6', preset: 'v6', set: {} },
    capS, guided: g, uniform: u, speedUp, shrunk: { steps: 4, runs: 120, budgetHit: false, seed: 1 }, handWrittenSteps: 6, goals: goalsOf(g, speedUp, capS),
  };
}

describe('summarize: medians over seeds, a capped search past every found one', () => {
  it('odd count: the middle search, capped ones last', () => {
    expect(summarize([capped(1), found(2, 4, 300), found(3, 2, 100)])).toMatchObject({ seeds: 3, found: 2, medianS: 4, medianRuns: 300 });
  });
  it('even count: the mean of the two middle ones', () => {
    expect(summarize([found(1, 2, 100), found(2, 4, 300)])).toMatchObject({ medianS: 3, medianRuns: 200 });
  });
  it('the median search hit the cap: no time, whatever the others found', () => {
    expect(summarize([capped(1), capped(2), found(3, 0.5, 10)])).toMatchObject({ found: 1, medianS: null, medianRuns: null });
  });
});

describe('speed-up and goals', () => {
  it('both found: uniform / guided, goals judged', () => {
    const e = entry([found(1, 2, 100)], [found(1, 12, 900)], 60);
    expect(e.speedUp).toEqual({ value: 6, bound: '=' });
    expect(e.goals).toEqual({ foundWithin60s: true, fiveTimesUniform: true });
  });
  it('uniform never found it: more than cap / guided; met when that bound already reaches 5', () => {
    expect(entry([found(1, 1, 50)], [capped(1)]).speedUp).toEqual({ value: 10, bound: '>' });
    expect(entry([found(1, 1, 50)], [capped(1)]).goals.fiveTimesUniform).toBe(true);
    // more than 10/4 = 2.5: the cap leaves it open
    expect(entry([found(1, 4, 50)], [capped(1)]).goals.fiveTimesUniform).toBeNull();
  });
  it('guided never found it: less than uniform / cap, and not found within 60 s only when the cap was 60 s', () => {
    const short = entry([capped(1)], [found(1, 3, 50)]);
    expect(short.speedUp).toEqual({ value: 0.3, bound: '<' });
    expect(short.goals).toEqual({ foundWithin60s: null, fiveTimesUniform: false });
    expect(entry([capped(1, 60)], [capped(1, 60)], 60).goals).toEqual({ foundWithin60s: false, fiveTimesUniform: null });
    expect(entry([capped(1)], [capped(1)]).speedUp).toBeNull();
  });
  it('slower than uniform: the goal is missed', () => {
    expect(entry([found(1, 3, 200)], [found(1, 1, 20)]).goals.fiveTimesUniform).toBe(false);
  });
});

describe('the figure and the table', () => {
  it('figure: capped searches count as the cap, ratio guided / uniform, met as the goals say', () => {
    const f = entryFigure(entry([found(1, 1, 50)], [capped(1)]));
    expect(f).toMatchObject({ id: 'explore-bug-9', unit: 's', value: 1, peer: { value: 10 }, ratio: 0.1, goal: { op: '<=', value: 0.2 }, met: true });
    expect(entryFigure(entry([found(1, 4, 50)], [capped(1)])).met).toBeNull();
  });

  it('rows: times and runs, "not found in" with the seeds that found it, bounds on the speed-up, shrunk beside hand-written steps', () => {
    const text = formatExplore([
      entry([found(1, 1.5, 80), found(2, 2, 120), capped(3)], [capped(1), capped(2), capped(3)]),
    ], undefined).join('\n');
    expect(text).toContain('2.00 s, 120 runs (2/3 seeds)');
    expect(text).toContain('not found in 10 s (0/3 seeds)');
    expect(text).toContain('> 5.0×');
    expect(text).toContain('4 / 6');
    expect(text).toMatch(/#9 +no-stale-translation +v6 .* yes +yes$/m);
  });

  it('mainline: each finding a documented quirk (with where) or open', () => {
    const f = (invariant: string) => ({ key: `${invariant} @ x`, invariant, signature: 'x', message: 'm', index: 3, seed: 1, bias: 0, policy: { preset: 'mainline', set: {} }, hits: 2, foundAfterS: 0.5, foundAfterRuns: 4, scenario: { steps: [{}, {}] } }) as unknown as Finding;
    const quirks = [{ invariant: 'uapi-errno', preset: 'mainline', why: 'DOMAIN.md §7.5' }];
    const rows = [mainlineFinding(f('uapi-errno'), quirks), mainlineFinding(f('liveness'), quirks)];
    expect(rows.map((r) => [r.status, r.why])).toEqual([['documented quirk', 'DOMAIN.md §7.5'], ['open', undefined]]);
    const text = formatExplore([], { seed: 1, budgetS: 10, runs: 700, elapsedS: 10, coverage: 80, simulatorErrors: 0, findings: rows }).join('\n');
    expect(text).toContain('700 runs, coverage 80, 2 distinct finding(s)');
    expect(text).toMatch(/documented quirk +uapi-errno @ x .*DOMAIN\.md §7\.5/);
    expect(text).toMatch(/open +liveness @ x/);
  });

  it('the bench table gives the exploration its own section, not a row of times that may be caps', () => {
    const r = {
      tool: 'vsva-sim bench', version: '0', mode: 'quick', only: ['explore'], command: 'c', startedAt: 's', wallSeconds: 1,
      machine: { cores: 2, cpuModel: 'cpu', loadAvg: [1, 1, 1], totalMemMB: 1, os: 'os', node: 'v20', redis: null, packages: { bullmq: '6', ioredis: '6' } },
      config: {}, figures: [entryFigure(entry([found(1, 1, 50)], [capped(1)]))], notes: [],
      explore: { mainline: { seed: 1, budgetS: 10, runs: 5, elapsedS: 10, coverage: 1, simulatorErrors: 0, findings: [] } },
    } as BenchResult;
    const text = formatTable(r);
    expect(text).not.toMatch(/^explore-bug-9 /m);
    expect(text).toMatch(/^#9 +no-stale-translation/m);
    expect(text).toContain('explore mainline, guided, seed 1, 10 s: 5 runs');
    expect(text).toContain('explore-bug-*: uniform random generation');
  });
});
