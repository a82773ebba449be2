import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedCli } from '../support/cli-process.js';

// Issue 10 point 3: what the kernel prints is in every run, human and --json (`dmesg`: component, log
// sequence, level, text as the kernel words it); point 2: the host kernel is the preset's. The built CLI.

const cli = embeddedCli(mkdtempSync(join(tmpdir(), 'vsva-dmesg-state-')));
const WARN_FILE = 'scenarios/null-device-warn-v59-host.yaml';
const SEED = 'scenarios/seed-null-iommu-device.yaml';

describe('the kernel\'s log of a run', () => {
  it('--json: v1\'s VFIO on a v5.9 host WARNs in intel_svm_bind_gpasid; dmesg lists it, and the run fails on the NULL device, not an oops', () => {
    const r = cli(['run', WARN_FILE, '--policy', 'v1', '--set', 'vtd.null_device=WARN', '--engine', 'embedded', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.policy).toMatchObject({ preset: 'v1', overrides: { 'vtd.null_device': 'WARN' } });
    expect(report.dmesg).toContainEqual({ component: 'host-vtd', seq: expect.any(Number), level: 'warn', fn: 'intel_svm_bind_gpasid', text: expect.stringMatching(/^WARNING: .*drivers\/iommu\/intel\/svm\.c intel_svm_bind_gpasid$/) });
    const invariants = report.violations.map((v: { invariant: string }) => v.invariant);
    expect(invariants).toContain('iommu-device-valid');
    expect(invariants).not.toContain('no-host-oops');
    // the log sequence is the entry's: the timeline and replay find it there
    const warn = report.dmesg.find((d: { fn: string }) => d.fn === 'intel_svm_bind_gpasid');
    expect(warn.seq).toBeGreaterThan(0);
  });

  it('the human report lists the lines after the outcomes, with the host kernel, and the timeline marks them with !', () => {
    const r = cli(['run', SEED, '--policy', 'v1', '--engine', 'embedded']);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/dmesg \(host kernel: v5\.6-based.*\):\n {2}<alert> BUG: kernel NULL pointer dereference, address: 0000000000000000 {3}\[host-vtd log #\d+\]/);
    expect(out).toMatch(/<emerg> RIP: 0010:intel_svm_bind_gpasid/);
    expect(out).toMatch(/!host +dmesg <alert> BUG: kernel NULL pointer dereference/);
  });

  it('a run where the kernel printed nothing has an empty dmesg', () => {
    const r = cli(['run', SEED, '--policy', 'v2', '--engine', 'embedded', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'pass', dmesg: [] });
  });
});

describe('vsva-sim policies', () => {
  it('--json: each preset\'s host kernel and each policy\'s values, the NULL-device policy following the host', () => {
    const r = cli(['policies', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.presets.v7.kernel).toMatch(/v5\.9-rc2/);
    expect(j.policies['vtd.null_device'].presets).toMatchObject({ v1: 'oops', v6: 'oops', v7: 'WARN', mainline: 'WARN' });
  });

  it('prints the table a reader scans, and says where the long form is', () => {
    const r = cli(['policies']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^host kernel of each preset:/);
    expect(r.stdout).toMatch(/vtd\.null_device +oops +oops/);
    expect(r.stdout).toMatch(/docs\/policies\.md/);
  });
});
