import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { corpusCommand } from '../../apps/cli/src/commands/corpus.js';
import { choosePolicy } from '../../apps/cli/src/policy-choice.js';
import { declaredRuns, loadScenario, parseScenario, verdictRuns } from '../../libs/scenario/src/index.js';
import { corpus } from '../support/corpus.js';
import { run } from '../domain/support.js';
import { problemsOf } from './sized.js';

// the CLI's modules read the package version from where the build puts them (dist/apps/cli/src);
// from the sources, in this process, there is no such file
vi.mock('../../apps/cli/src/version.js', () => ({ VERSION: 'test', PACKAGE_ROOT: process.cwd() }));

// Issue 10 point 7: `verdicts` keyed by a preset plus policy overrides. Besides the map
// `{ v1: fail, v2: pass }`, a list of runs `[{ preset, set, verdict }]`; a corpus run is one
// (scenario, preset, overrides), labelled `v7+name=value`.

const FILE = 'scenarios/nesting-container-one-group.yaml';
const OFF = { 'vfio.singleton_nesting_container': false };

const withVerdicts = (verdicts: string) => readFileSync(FILE, 'utf8').replace(/^verdicts:\n(?: {2}- .*\n)+/m, `verdicts:\n${verdicts}`);
const paths = (verdicts: string) => problemsOf(() => parseScenario(withVerdicts(verdicts), 'bad.yaml')).map((p) => `${p.path}: ${p.message}`);

describe('the list form of verdicts', () => {
  it('reads as runs, each a preset with its overrides; the map form reads as runs without overrides', () => {
    expect(verdictRuns(loadScenario(FILE))).toEqual([
      { preset: 'v1', set: {}, verdict: 'fail' },
      { preset: 'v2', set: {}, verdict: 'pass' },
      { preset: 'v7', set: {}, verdict: 'pass' },
      { preset: 'v8', set: {}, verdict: 'pass' },
      { preset: 'mainline', set: {}, verdict: 'pass' },
      { preset: 'v7', set: OFF, verdict: 'fail' },
    ]);
    expect(verdictRuns(loadScenario('scenarios/cross-vm-pasid-bind.yaml'))).toEqual([{ preset: 'v1', set: {}, verdict: 'fail' }, { preset: 'v2', set: {}, verdict: 'pass' }, { preset: 'v7', set: {}, verdict: 'pass' }]);
  });

  it('declares one corpus run per (preset, overrides), labelled with the overrides; a verdict naming a bug side is that side', () => {
    expect(declaredRuns(loadScenario(FILE)).map((r) => `${r.role} ${r.label} ${r.verdict}`)).toEqual([
      'verdict v1 fail', 'verdict v2 pass', 'verdict v7 pass', 'verdict v8 pass', 'verdict mainline pass', 'verdict v7+vfio.singleton_nesting_container=false fail',
    ]);
    expect(declaredRuns(loadScenario('scenarios/cross-vm-pasid-bind.yaml')).map((r) => `${r.role} ${r.label}`)).toEqual(['buggy v1', 'fixed v2', 'verdict v7']);
    expect(corpus().find((c) => c.file === FILE)!.policies.map((p) => [p.label, p.policy.overrides])).toContainEqual(['v7+vfio.singleton_nesting_container=false', OFF]);
  });

  it('refuses an unknown preset, an unknown policy, a bad value, a run declared twice, at the field', () => {
    expect(paths('  - { preset: v9, verdict: pass }\n')[0]).toMatch(/^verdicts\[0\]\.preset: Invalid option/);
    expect(paths('  - { preset: v7, set: { vfio.nope: true }, verdict: pass }\n')).toEqual(["verdicts[0].set.vfio.nope: unknown policy 'vfio.nope' (docs/policies.md lists them)"]);
    expect(paths('  - { preset: v7, set: { vfio.singleton_nesting_container: maybe }, verdict: pass }\n')).toEqual([
      "verdicts[0].set.vfio.singleton_nesting_container: bad value 'maybe' for policy 'vfio.singleton_nesting_container': Invalid input: expected boolean, received string",
    ]);
    expect(paths('  - { preset: v7, verdict: perhaps }\n')[0]).toMatch(/^verdicts\[0\]\.verdict: Invalid option/);
    expect(paths('  - { preset: v7, set: { vfio.singleton_nesting_container: false }, verdict: pass }\n  - { preset: v7, set: { vfio.singleton_nesting_container: false }, verdict: fail }\n')).toEqual([
      'verdicts[1]: the run v7+vfio.singleton_nesting_container=false is already declared by verdicts[0]',
    ]);
    expect(paths('  - { preset: v7, sets: {}, verdict: pass }\n')).toEqual(['verdicts[0]: Unrecognized key: "sets"']);
  });

  it('a bug\'s overrides are checked as a verdict\'s: a bad value is refused at the field', () => {
    const text = readFileSync('scenarios/cross-vm-pasid-bind.yaml', 'utf8').replace('  fixed: v2\n', '  fixed: v2\n  fixedSet: { vtd.bind_checks_pasid_ownership: sometimes }\n');
    expect(problemsOf(() => parseScenario(text, 'bad.yaml')).map((p) => p.path)).toEqual(['bug.fixedSet.vtd.bind_checks_pasid_ownership']);
  });

  it('run without --policy: the preset it is meant to be read under, as the file lists it', () => {
    expect(choosePolicy(loadScenario(FILE), { set: [] })).toMatchObject({ preset: 'mainline', set: [] });
    const only = parseScenario(withVerdicts('  - { preset: v7, set: { vfio.singleton_nesting_container: false }, verdict: fail }\n'), 'one.yaml');
    expect(choosePolicy(only, { set: ['vtd.drain_prq=true'] })).toMatchObject({ preset: 'v7', set: ['vfio.singleton_nesting_container=false', 'vtd.drain_prq=true'] });
  });
});

describe('a verdict with overrides runs the scenario under them', () => {
  it('the singleton rule overridden off flips the verdict of v7 (the second attach succeeds where EINVAL is expected)', async () => {
    expect((await run(FILE, 'v7')).report.verdict).toBe('pass');
    const off = await run(FILE, 'v7', OFF);
    expect(off.report.verdict).toBe('fail');
    // the attach (ok, EINVAL expected), then the bind: both groups in one container, and v7 refuses the
    // second aux domain's bind of the same (device, PASID) with -EBUSY (d315e9e684d1)
    expect(off.report.violations.map((v) => v.invariant)).toEqual(['expected-outcome', 'expected-outcome']);
  });

  describe('the corpus command', () => {
    const out: string[] = [];
    afterEach(() => {
      vi.restoreAllMocks();
      out.length = 0;
    });
    /** Runs `corpus dir --engine embedded --json` in this process: its exit code and its JSON. */
    async function corpusOf(text: string) {
      const dir = mkdtempSync(join(tmpdir(), 'vsva-verdicts-'));
      writeFileSync(join(dir, 'nesting-container-one-group.yaml'), text);
      vi.spyOn(process.stderr, 'write').mockImplementation((s) => (out.push(String(s)), true));
      vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(`STDOUT ${String(s)}`), true));
      const code = await corpusCommand(dir, { engine: 'embedded', json: true, timeout: 60_000 });
      const json = JSON.parse(out.find((l) => l.startsWith('STDOUT '))!.slice('STDOUT '.length));
      return { code, json, stderr: out.filter((l) => !l.startsWith('STDOUT ')).join('') };
    }

    it('runs the override run under its overrides, labels it, and finds it as declared', async () => {
      const r = await corpusOf(readFileSync(FILE, 'utf8'));
      expect(r.code, r.stderr).toBe(0);
      const runs = r.json.scenarios[0].runs;
      expect(runs.map((x: { preset: string; set?: object; verdict: string }) => [x.preset, x.set ?? null, x.verdict])).toEqual([
        ['v1', null, 'fail'], ['v2', null, 'pass'], ['v7', null, 'pass'], ['v8', null, 'pass'], ['mainline', null, 'pass'], ['v7', OFF, 'fail'],
      ]);
      expect(r.stderr).toMatch(/\[6\/6\] nesting-container-one-group under v7\+vfio\.singleton_nesting_container=false: fail\n/);
      expect(r.stderr).toMatch(/nesting-container-one-group .* yes .*v7\+vfio\.singleton_nesting_container=false:fail/);
    });

    it('declared pass under the override, the run is not as declared: exit 1 (the override was applied)', async () => {
      const r = await corpusOf(withVerdicts('  - { preset: v7, verdict: pass }\n  - { preset: v7, set: { vfio.singleton_nesting_container: false }, verdict: pass }\n'));
      expect(r.code).toBe(1);
      expect(r.json.scenarios[0]).toMatchObject({ ok: false, runs: [{ preset: 'v7', verdict: 'pass' }, { preset: 'v7', set: OFF, verdict: 'fail', expected: 'pass' }] });
      expect(r.stderr).toMatch(/under v7\+vfio\.singleton_nesting_container=false: fail {2}NOT AS DECLARED/);
    });
  });
});
