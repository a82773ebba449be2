import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `vsva-sim chaos` in the embedded engine, as a user runs it (the built CLI): bad input is exit 2 with
// what is accepted; a seeded chaos run prints the same JSON twice.

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], {
    encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, REDIS_URL: '', VSVA_REDIS_URL: '', VSVA_STATE_DIR: mkdtempSync(join(tmpdir(), 'vsva-chaos-state-')) },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vsva-sim chaos: bad input', () => {
  it('an unknown fault, a probability outside [0, 1], a process fault in the embedded engine: exit 2 with the list of what is accepted', () => {
    for (const [faults, said] of [['bogus', "unknown fault 'bogus'"], ['crash=2', 'a probability is a number from 0 to 1'], ['kill', 'the cluster engine only']] as const) {
      const r = cli(['chaos', 'scenarios', '--faults', faults, '--runs', '1']);
      expect(r.code, faults).toBe(2);
      expect(r.stderr, faults).toContain(said);
      expect(r.stderr, faults).toContain('Accepted in --faults');
      expect(r.stderr, faults).toContain('process:  kill, pause, redis, disconnect');
    }
    const j = cli(['chaos', 'scenarios', '--faults', 'bogus', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { kind: 'bad-input' } });
  });

  it('a scenario that does not exist, and a folder with none: exit 2', () => {
    expect(cli(['chaos', 'no/such.yaml']).code).toBe(2);
    expect(cli(['chaos', 'docs']).stderr).toContain('no scenario (.yaml) in this folder');
  });
});

describe('vsva-sim chaos --engine embedded', () => {
  it('over the corpus under every delivery fault: ok, nothing lost or doubled, and the same bytes from the same seed', () => {
    const args = ['chaos', 'scenarios', '--faults', 'delivery', '--runs', '40', '--seed', '11', '--json'];
    const a = cli(args);
    expect(a.code, a.stderr).toBe(0);
    const s = JSON.parse(a.stdout);
    expect(s).toMatchObject({ ok: true, engine: 'embedded', runs: 40, seed: 11, lost: 0, duplicated: 0, replayIdentical: true, differing: 0, findings: [], failures: [] });
    for (const k of ['duplicate', 'delay', 'crash']) expect(s.faults[k], k).toBeGreaterThan(0);
    // progress on stderr: one line per run, then the summary
    expect(a.stderr.match(/^\[\d+\/40\] /gm)).toHaveLength(40);
    expect(a.stderr).toContain('faults: duplicate, delay, crash');
    expect(cli(args).stdout).toBe(a.stdout);
  });
});
