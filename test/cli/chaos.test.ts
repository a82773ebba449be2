import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

describe('vsva-sim chaos: a finding', () => {
  it('surprise removal under v8: bug #16 reported with its fault and reproduce line (exit 1); --out writes the same bytes from the same seed, and replay re-folds the run and shows its faults', () => {
    const outs = [mkdtempSync(join(tmpdir(), 'vsva-chaos-out-')), mkdtempSync(join(tmpdir(), 'vsva-chaos-out-'))];
    const args = (out: string) => ['chaos', 'scenarios/devtlb-pasid-flush-user-range.yaml', '--faults', 'surprise-removal', '--policy', 'v8', '--seed', '7', '--runs', '1', '--json', '--out', out];
    const [a] = outs.map((out) => cli(args(out)));
    expect(a!.code, a!.stderr).toBe(1);
    const s = JSON.parse(a!.stdout);
    expect(s).toMatchObject({ ok: false, lost: 0, duplicated: 0, replayIdentical: true, findings: [{ invariant: 'liveness', policy: 'v8', seed: 7 }] });
    expect(s.findings[0].reproduce).toBe('npx vsva-sim chaos scenarios/devtlb-pasid-flush-user-range.yaml --engine embedded --policy v8 --faults surprise-removal --seed 7 --runs 1');
    expect(a!.stderr).toContain('FINDING liveness (surprise-removal on dsa0 at step');
    const files = readdirSync(outs[0]!).sort();
    expect(files).toEqual(['devtlb-pasid-flush-user-range-s7.json', 'devtlb-pasid-flush-user-range-s7.ndjson', 'devtlb-pasid-flush-user-range-s7.timeline.txt', 'devtlb-pasid-flush-user-range-s7.yaml']);
    // byte for byte, but for the folder each names its files by
    const read = (k: number, f: string) => readFileSync(join(outs[k]!, f), 'utf8').replaceAll(outs[k]!, 'OUT');
    for (const f of files) expect(read(1, f), f).toBe(read(0, f));
    expect(readFileSync(join(outs[0]!, 'devtlb-pasid-flush-user-range-s7.timeline.txt'), 'utf8')).toMatch(/⚡nem +surprise-removal dsa0/);
    const replay = cli(['replay', join(outs[0]!, 'devtlb-pasid-flush-user-range-s7.ndjson')]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stderr).toMatch(/chaos run: faults surprise-removal; device faults surprise-removal on dsa0 at step \d+/);
    // the faulted scenario is a scenario: run takes it, and gives the same verdict
    const run = cli(['run', join(outs[0]!, 'devtlb-pasid-flush-user-range-s7.yaml'), '--policy', 'v8', '--engine', 'embedded', '--seed', '7', '-q', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).violations.map((v: { invariant: string }) => v.invariant)).toContain('liveness');
  });
});

describe('vsva-sim audit', () => {
  it('passes a whole exported run, and names the command a planted loss left unconsumed (exit 1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsva-audit-'));
    const file = join(dir, 'seed-v2.ndjson');
    expect(cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--engine', 'embedded', '-q', '--export', file]).code).toBe(0);
    const good = cli(['audit', file, '--json']);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, runs: 1, lost: 0, duplicated: 0, replayDivergent: 0 });

    // host-vtd's consumption of one command taken out of the log (sequences closed up, the header's count too)
    const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
    const entries = lines.map((l) => JSON.parse(l) as { seq: number; kind: string; component: string; causationId: string });
    const gone = entries.findIndex((e) => e.kind === 'input' && e.component === 'host-vtd');
    const kept = entries.filter((_, i) => i !== gone).map((e, i) => ({ ...e, seq: i + 1 }));
    const header = JSON.parse(head!) as Record<string, unknown>;
    const planted = join(dir, 'planted.ndjson');
    writeFileSync(planted, [JSON.stringify({ ...header, entries: kept.length }), ...kept.map((e) => JSON.stringify(e))].join('\n') + '\n');
    const bad = cli(['audit', planted]);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stderr).toContain(`command ${entries[gone]!.causationId}`);
    expect(bad.stderr).toContain('to host-vtd was never consumed');
    expect(bad.stderr).toContain('NOT ok');
  });

  it('needs runs or --all: exit 2', () => {
    expect(cli(['audit']).code).toBe(2);
  });
});
