import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedCli } from '../support/cli-process.js';

// `vsva-sim diff` as a user runs it (the built CLI, embedded engine, no Redis); diffRuns itself is
// tested in diff.unit.test.ts.
const SEED = 'scenarios/seed-null-iommu-device.yaml';
const dir = mkdtempSync(join(tmpdir(), 'vsva-diff-'));
const cli = embeddedCli(dir);

describe('vsva-sim diff', () => {
  it('exit 0 for two seeds by default, exit 1 with --strict; v2 without its NULL check vs v2 names VFIO and its null iommu device', () => {
    const f = (name: string) => join(dir, `${name}.ndjson`);
    expect(cli(['run', SEED, '--policy', 'v2', '--engine', 'embedded', '--seed', '1', '-q', '--export', f('s1')]).code).toBe(0);
    expect(cli(['run', SEED, '--policy', 'v2', '--engine', 'embedded', '--seed', '3', '-q', '--export', f('s3')]).code).toBe(0);
    // v2 with v1's unchecked device: the runs differ in that one behaviour (v1 also keeps one container for both groups)
    expect(cli(['run', SEED, '--policy', 'v2', '--set', 'vfio.iommu_device_null_check=false', '--engine', 'embedded', '-q', '--export', f('v1')]).code).toBe(1);
    const same = cli(['diff', f('s1'), f('s3')]);
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/behave identically/);
    const strict = cli(['diff', f('s1'), f('s3'), '--strict', '--json']);
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout)).toMatchObject({ mode: 'strict', identical: false });
    const v = cli(['diff', f('v1'), f('s1'), '--json']);
    expect(v.code).toBe(1);
    const d = JSON.parse(v.stdout);
    expect(d).toMatchObject({ mode: 'behaviour', first: { component: 'vfio-type1', b: { type: 'iommu_device.null' } } });
    expect(v.stderr).toMatch(/vfio-type1\s+input \d+ \(A #\d+, B #\d+\)/);
    expect(v.stderr).toContain('iommu_device.null');
  });
});
