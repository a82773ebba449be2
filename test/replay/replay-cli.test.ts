import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedCli } from '../support/cli-process.js';

// `vsva-sim replay` and `run --export` as a user runs them (the built CLI, embedded engine, no Redis);
// replayEntries and runEmbedded themselves are tested in replay.unit.test.ts.
const SEED = 'scenarios/seed-null-iommu-device.yaml';
const dir = mkdtempSync(join(tmpdir(), 'vsva-replay-'));
const cli = embeddedCli(dir);

describe('vsva-sim replay', () => {
  it('the CLI replays an exported file without Redis: exit 0, and exit 1 naming the tampered entry', () => {
    const file = join(dir, 'v2.ndjson');
    expect(cli(['run', SEED, '--policy', 'v2', '--engine', 'embedded', '-q', '--export', file]).code).toBe(0);
    const ok = cli(['replay', file, '--json']);
    expect(ok.code).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    // every entry of the file (all lines but the header) was re-folded
    expect(JSON.parse(ok.stdout)).toMatchObject({ identical: true, entries: lines.length - 1 });
    const at = lines.findIndex((l) => l.includes('"type":"svm.bound"'));
    lines[at] = lines[at]!.replace('"hpasid":3', '"hpasid":4');
    writeFileSync(join(dir, 'tampered.ndjson'), `${lines.join('\n')}\n`);
    const bad = cli(['replay', join(dir, 'tampered.ndjson')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`DIVERGED at log entry #${at}`);
    const broken = cli(['replay', join(dir, 'nope.ndjson')]);
    expect(broken.code).toBe(2);
  });
});

describe('vsva-sim run --export', () => {
  it('the same seed exports byte-identical files', () => {
    const [a, b] = [join(dir, 'a.ndjson'), join(dir, 'b.ndjson')];
    cli(['run', SEED, '--policy', 'v1', '--engine', 'embedded', '--seed', '42', '-q', '--export', a]);
    cli(['run', SEED, '--policy', 'v1', '--engine', 'embedded', '--seed', '42', '-q', '--export', b]);
    expect(readFileSync(a)).toEqual(readFileSync(b));
  });
});
