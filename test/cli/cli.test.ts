import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeClusterStateFor } from '../support/cli.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

let cluster: TestCluster;
let stateDir: string;

/** Runs the CLI as a user would, against the test cluster (via a `.vsva/cluster.json` of its own). */
function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], {
    encoding: 'utf8', env: { ...process.env, REDIS_URL: '', VSVA_REDIS_URL: '', VSVA_STATE_DIR: stateDir, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  cluster = await startTestCluster(inject('redisUrl'), 'cli');
  stateDir = mkdtempSync(join(tmpdir(), 'vsva-cli-state-'));
  writeClusterStateFor(stateDir, cluster);
});
afterAll(async () => {
  await cluster?.stop();
});

describe('vsva-sim run', () => {
  it('--policy v1 --engine cluster --json: exit 1 and a no-host-oops violation citing log sequences', () => {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v1', '--engine', 'cluster', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['runId', 'scenario', 'policy', 'engine', 'seed', 'verdict', 'violations', 'outcomes', 'stats']));
    expect(report).toMatchObject({ engine: 'cluster', verdict: 'fail', policy: { preset: 'v1' } });
    const v = report.violations.find((x: { invariant: string }) => x.invariant === 'no-host-oops');
    expect(v.events.length).toBeGreaterThan(0);
    expect(v.events.every((s: unknown) => Number.isInteger(s))).toBe(true);
    // human output stays on stderr: the timeline shows the oops lane
    expect(r.stderr).toMatch(/✖host\s+oops/);
  });

  it('--policy v2: exit 0 with the bind outcome -EINVAL', () => {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--engine', 'cluster', '--json', '--quiet']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.verdict).toBe('pass');
    expect(report.outcomes.find((o: { op: string }) => o.op === 'bind')).toMatchObject({ ret: -22, result: 'EINVAL' });
    expect(report.reproduce).toBe('npx vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v2 --engine cluster --seed 1');
  });

  it('--set overrides a policy of the preset and the report says so', () => {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--set', 'vfio.iommu_device_null_check=false', '--engine', 'embedded', '--json', '-q']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).policy).toEqual({ preset: 'v2', kernel: expect.stringMatching(/^v5\.7/), overrides: { 'vfio.iommu_device_null_check': false } });
  });

  it('a malformed scenario exits 2 naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsva-bad-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'name: broken\ndescription: x\nparents: [{ id: p, kind: iommu-backed, rid: "6a:01.0" }]\nvms: [{ id: vm1, mdevs: [{ id: m, parent: p }] }]\nsteps:\n  - { op: bind, vm: vm1, pasid: 5, gpgd: -1 }\n');
    const r = cli(['run', file, '--engine', 'cluster']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('steps[0].gpgd');
    expect(r.stdout).toBe('');
  });

  it('bad flags and unknown policies exit 2 with a message that says what to do', () => {
    const a = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v9']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/v9.*Allowed choices are v1, v2/s);
    const b = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--set', 'vfio.nope=1', '--engine', 'embedded']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/unknown policy 'vfio.nope'.*known policies are/);
    const c = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--set', 'vfio.pasid_quota=lots', '--engine', 'embedded']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/bad value 'lots' for policy 'vfio.pasid_quota'/);
    expect(cli(['run']).code).toBe(2);
    expect(cli(['frobnicate']).code).toBe(2);
  });

  it('status reports each service of the running cluster', () => {
    const r = cli(['status', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(Object.values(s.services).every((h) => h !== null)).toBe(true);
  });
});

describe('vsva-sim corpus', () => {
  it('runs every scenario under its declared policies and reports each as declared (embedded)', () => {
    const r = cli(['corpus', '--engine', 'embedded', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    const seed = out.scenarios.find((s: { file: string }) => s.file.endsWith('seed-null-iommu-device.yaml'));
    expect(seed).toMatchObject({ invariant: 'no-host-oops', ok: true, buggy: { preset: 'v1', verdict: 'fail' }, fixed: { preset: 'v2', verdict: 'pass' } });
    expect(seed.buggy.violations.some((v: { invariant: string }) => v.invariant === 'no-host-oops')).toBe(true);
    for (const s of out.scenarios) expect(Object.keys(s)).toEqual(expect.arrayContaining(['file', 'bug', 'invariant', 'buggy', 'fixed', 'ok']));
    expect(r.stderr).toMatch(/seed-null-iommu-device\s+no-host-oops\s+yes\s+fail \(v1\) → pass \(v2\)/);
  });

  it('exits 1 when a scenario does not behave as declared', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsva-corpus-'));
    const text = readFileSync('scenarios/seed-null-iommu-device.yaml', 'utf8').replace('fixed: v2', 'fixed: v1');
    writeFileSync(join(dir, 'wrong.yaml'), text);
    const r = cli(['corpus', dir, '--engine', 'embedded', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).scenarios[0]).toMatchObject({ ok: false, fixed: { verdict: 'fail' } });
  });
});
