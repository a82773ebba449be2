import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { choosePolicy } from '../../apps/cli/src/policy-choice.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vsva-policy-choice-'));
/** The CLI as a user runs it, embedded only (no Redis, no cluster). */
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], { encoding: 'utf8', env: { ...process.env, REDIS_URL: '', VSVA_STATE_DIR: dir } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const said = (stderr: string) => stderr.split('\n').filter((l) => l.includes('(no --policy)'));

describe('which policy a run uses without --policy', () => {
  it('a bug scenario runs its buggy preset and shows the finding; stderr says so and names the fix', () => {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--engine', 'embedded', '-q', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ verdict: 'fail', policy: { preset: 'v1' } });
    expect(report.violations.map((v: { invariant: string }) => v.invariant)).toContain('no-host-oops');
    expect(report.reproduce).toContain('--policy v1');
    expect(said(r.stderr)).toHaveLength(1);
    expect(said(r.stderr)[0]).toMatch(/^policy v1 \(no --policy\): the buggy preset .*--policy v2 runs the fix/);
  });

  it("the buggy side's overrides come with it, and are in the reproduce command", () => {
    const sc = loadScenario('scenarios/prq-no-drain-pasid-reuse.yaml');
    const r = cli(['run', 'scenarios/prq-no-drain-pasid-reuse.yaml', '--engine', 'embedded', '-q', '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.policy).toMatchObject({ preset: sc.bug!.buggy, overrides: sc.bug!.buggySet });
    expect(report.violations.map((v: { invariant: string }) => v.invariant)).toContain(sc.bug!.invariant);
    expect(report.reproduce).toContain(`--policy ${sc.bug!.buggy} --set vtd.drain_prq=false`);
    expect(said(r.stderr)[0]).toContain('vtd.drain_prq=false');
  });

  it('a scenario with verdicts only runs the newest preset they list (mainline when listed), as declared', () => {
    const r = cli(['run', 'scenarios/non-iommu-mdev-external-domain.yaml', '--engine', 'embedded', '-q', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).policy.preset).toBe('v7');
    expect(said(r.stderr)[0]).toMatch(/^policy v7 \(no --policy\): the newest of the presets this scenario declares in verdicts \(v1, v2, v7\), expected to pass/);
  });

  it('--policy wins and nothing is said; a --set without --policy applies on top of the chosen preset', () => {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--engine', 'embedded', '-q', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).policy.preset).toBe('v2');
    expect(said(r.stderr)).toEqual([]);
    const s = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--set', 'vfio.iommu_device_null_check=true', '--engine', 'embedded', '-q', '--json']);
    const fixed = JSON.parse(s.stdout);
    expect(fixed.policy).toMatchObject({ preset: 'v1', overrides: { 'vfio.iommu_device_null_check': true } });
    // the override took: VFIO checks the device, the host no longer oopses
    expect(fixed.violations.map((v: { invariant: string }) => v.invariant)).not.toContain('no-host-oops');
    expect(said(s.stderr)[0]).toContain('policy v1 + vfio.iommu_device_null_check=true (no --policy)');
  });

  it('a scenario declaring neither runs mainline and says why; a file that does not load is still exit 2', () => {
    const text = readFileSync('scenarios/seed-null-iommu-device.yaml', 'utf8');
    const plain = text.replace(/^bug:\n(?: {2}.*\n)+/m, '').replace(/^verdicts:.*\n/m, '');
    const file = join(dir, 'plain.yaml');
    writeFileSync(file, plain);
    expect(loadScenario(file)).not.toHaveProperty('bug');
    const r = cli(['run', file, '--engine', 'embedded', '-q', '--json']);
    expect(JSON.parse(r.stdout).policy.preset).toBe('mainline');
    expect(said(r.stderr)[0]).toMatch(/^policy mainline \(no --policy\): the scenario declares no bug and no verdicts/);
    const bad = cli(['run', join(dir, 'nope.yaml'), '--engine', 'embedded', '-q']);
    expect(bad.code).toBe(2);
    expect(said(bad.stderr)).toEqual([]);
  });

  it('the rule: --policy, else the bug\'s buggy side, else mainline or the newest declared verdict, else mainline', () => {
    const sc = loadScenario('scenarios/seed-null-iommu-device.yaml');
    expect(choosePolicy(sc, { policy: 'v3', set: [] })).toEqual({ preset: 'v3', set: [], why: null });
    expect(choosePolicy(sc, { set: ['a=1'] })).toMatchObject({ preset: 'v1', set: ['a=1'] });
    const { bug: _b, ...nobug } = sc;
    expect(choosePolicy({ ...nobug, verdicts: { v1: 'pass', mainline: 'pass', v4: 'fail' } }, { set: [] }).preset).toBe('mainline');
    expect(choosePolicy({ ...nobug, verdicts: { v6: 'fail', v3: 'pass' } }, { set: [] }).preset).toBe('v6');
    expect(choosePolicy({ ...nobug, verdicts: undefined }, { set: [] }).preset).toBe('mainline');
  });
});
