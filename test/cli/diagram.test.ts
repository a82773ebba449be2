import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedCli } from '../support/cli-process.js';

// Issue 13 point 1, the built CLI: `vsva-sim diagram` on the seed's v1 export.

const dir = mkdtempSync(join(tmpdir(), 'vsva-diagram-'));
const cli = embeddedCli(join(dir, 'state'));
const v1 = join(dir, 'v1.ndjson');

describe('vsva-sim diagram', () => {
  it('prints Mermaid whose last arrow is VFIO handing the NULL device to the host, then the oops; -o writes SVG or HTML', () => {
    expect(cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v1', '--engine', 'embedded', '-q', '--export', v1]).code).toBe(1);
    const r = cli(['diagram', v1, '--format', 'mermaid']);
    expect(r.code, r.stderr).toBe(0);
    const body = r.stdout.trim().split('\n').filter((l) => !l.trim().startsWith('%%') && !['end'].includes(l.trim()) && !l.trim().startsWith('rect'));
    expect(body.filter((l) => l.includes('->>')).pop()).toMatch(/vfio_type1->>host_vtd: iommu_sva_bind_gpasid .*dev=NULL/);
    expect(body.pop()).toMatch(/Note over host_vtd: ✖ oops/);
    const svg = join(dir, 'v1.svg');
    const w = cli(['diagram', v1, '--format', 'svg', '-o', svg]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toMatch(/on 5 lane\(s\), log entries \d+-\d+, \d+ before left out.*2 violation\(s\); wrote/);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('bad input is exit 2 with what to do, before anything is read', () => {
    for (const [args, said] of [
      [['diagram', v1, '--around', '5', '--from', '1'], /give one/],
      [['diagram', v1, '--lanes', 'vfio,gpu'], /unknown lane gpu \(lanes: orch, guest, vfio, mdev, host\)/],
      [['diagram', v1, '--format', 'png'], /Allowed choices are mermaid, svg, html/],
      [['diagram', join(dir, 'none.ndjson')], /no such file/],
      [['diagram', v1, '--from', '50', '--to', '10'], /--to 10 is before --from 50/],
    ] as const) {
      const r = cli([...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(said);
    }
  });
});
