import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `vsva-sim shrink` as a user runs it: the built CLI (npm run build), no Redis.

function cli(args: string[]) {
  const stateDir = mkdtempSync(join(tmpdir(), 'vsva-shrink-state-'));
  const r = spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, REDIS_URL: '', VSVA_REDIS_URL: '', VSVA_STATE_DIR: stateDir, VSVA_PREFIX: `vsvatest-shrink-${process.pid}` },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, stateDir };
}

const json = (stdout: string) => {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!);
};

describe('vsva-sim shrink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsva-shrink-'));
  const exported = join(dir, 'v1.ndjson');

  it('shrinks a run exported as .ndjson: writes a scenario and its log, and `vsva-sim run` on the scenario fails with the invariant by itself', () => {
    const run = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v1', '--engine', 'embedded', '--seed', '5', '-q', '--export', exported]);
    expect(run.code, run.stderr).toBe(1);
    const out = join(dir, 'shrunk');
    const r = cli(['shrink', exported, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const o = json(r.stdout);
    expect(o).toMatchObject({ ok: true, invariant: 'no-host-oops', policy: { preset: 'v1' }, budgetHit: false, scenarioFile: join(out, 'scenario.yaml'), logFile: join(out, 'run.ndjson') });
    expect(o.after.steps).toBeLessThanOrEqual(o.before.steps);
    expect(o.runs).toBeGreaterThan(1);
    expect(r.stderr).toMatch(/steps 5 -> \d, VMs 1 -> 1, mdevs 2 -> \d, parents 1 -> 1, workload entries 0 -> 0/);
    expect(r.stderr).toContain(`reproduce: ${o.reproduce}`);
    expect(readFileSync(o.scenarioFile, 'utf8')).not.toContain('expect:');

    // the command it prints, as printed (the policy comes from the file's verdicts)
    const [, , ...args] = (o.reproduce as string).split(' ');
    const again = cli([...args, '--json', '-q']);
    expect(again.code, again.stderr).toBe(1);
    expect(json(again.stdout).violations.map((v: { invariant: string }) => v.invariant)).toContain('no-host-oops');
    // and its log replays as recorded
    const replay = cli(['replay', o.logFile]);
    expect(replay.code, replay.stderr).toBe(0);
  });

  it('writes under .vsva/shrink/<scenario-name>/ by default', () => {
    const r = cli(['shrink', 'scenarios/prq-no-drain-pasid-reuse.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/policy mainline \+ vtd\.drain_prq=false \(no --policy\)/);
    expect(existsSync(join(r.stateDir, 'shrink', 'prq-no-drain-pasid-reuse', 'scenario.yaml'))).toBe(true);
    expect(existsSync(join(r.stateDir, 'shrink', 'prq-no-drain-pasid-reuse', 'run.ndjson'))).toBe(true);
  });

  it('exit 2 when the input does not break the invariant named, listing what it breaks', () => {
    const r = cli(['shrink', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v1', '--invariant', 'drain-before-reuse', '--out', join(dir, 'x'), '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not break drain-before-reuse .*it breaks .*no-host-oops/);
    expect(json(r.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { kind: 'bad-input' } });
  });

  it('exit 2 when the input breaks no invariant (the fix)', () => {
    const r = cli(['shrink', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--out', join(dir, 'y')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/breaks no invariant under v2 with seed 1: nothing to shrink/);
  });

  it('exit 2 for --policy on a recorded run, whose policy its log says', () => {
    const r = cli(['shrink', exported, '--policy', 'v2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/recorded run/);
  });

  it('exit 3 for a run id with no Redis to look it up in', () => {
    const r = cli(['shrink', 'no-such-run']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no Redis/);
  });
});
