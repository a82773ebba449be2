import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { writeNdjson } from '../../libs/event-log/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { RunCatalog, UnknownRunError } from '../../apps/ui/src/run-catalog.js';

// Issue 13: the dashboard's runs from exported files (no Redis): found by the run id their header
// names, whatever the file is called; a file that is not an export is listed nowhere and said once.

const dir = mkdtempSync(join(tmpdir(), 'vsva-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function exported(preset: string, file: string): Promise<string> {
  const policy = resolvePolicy(preset);
  const run = await runEmbedded({ runId: `cat-${preset}`, scenario: loadScenario('scenarios/seed-null-iommu-device.yaml'), policy, seed: 1 });
  await writeNdjson({ runId: run.runId, scenario: { name: 'seed-null-iommu-device' }, policy, seed: 1, engine: 'embedded', startedAt: preset === 'v1' ? 1 : 2, status: 'finished' }, run.entries, join(dir, file), 'test');
  return run.runId;
}

describe('RunCatalog over exported files', () => {
  it('lists each export by its header\'s run id with its verdict, newest first; says which files it could not read', async () => {
    const v1 = await exported('v1', 'first.ndjson');
    const v2 = await exported('v2', 'second.ndjson');
    writeFileSync(join(dir, 'notes.ndjson'), 'this is not an export\n');
    const catalog = new RunCatalog(undefined, [dir]);
    const rows = await catalog.list();
    expect(rows.map((r) => [r.runId, r.verdict, r.origin])).toEqual([[v2, 'pass', 'file'], [v1, 'fail', 'file']]);
    expect(rows[1]!.violations).toBe(2);
    expect(catalog.skipped).toHaveLength(1);
    expect(catalog.skipped[0]!.path).toBe(join(dir, 'notes.ndjson'));
    expect(catalog.skipped[0]!.why).toMatch(/notes\.ndjson:1: header is not valid JSON/);
    // a second listing says it once
    await catalog.list();
    expect(catalog.skipped).toHaveLength(1);

    const run = await catalog.open(v1);
    expect(run.origin).toEqual({ kind: 'file', path: join(dir, 'first.ndjson') });
    expect(run.report.violations.map((v) => v.invariant)).toContain('no-host-oops');
    await expect(catalog.open('no-such-run')).rejects.toBeInstanceOf(UnknownRunError);
  });
});
