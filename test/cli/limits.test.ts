import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatReport } from '../../apps/cli/src/format.js';
import type { RunReport } from '../../libs/runtime/src/index.js';

/**
 * The operator's contract on input (issue 8): whatever the scenario file is, `run` answers with exit 2
 * and a message that says what is wrong and what to do, never an internal error or a hang. Driven as a
 * process, embedded engine only (no Redis, no cluster).
 */
function cli(args: string[], env: Record<string, string> = {}) {
  // the kill is a guard against a hang (a FIFO used to block forever), not a timing assertion
  const r = spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], {
    encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL',
    env: { ...process.env, REDIS_URL: '', VSVA_REDIS_URL: '', VSVA_STATE_DIR: mkdtempSync(join(tmpdir(), 'vsva-limits-state-')), ...env },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'vsva-cli-limits-'));
const HEAD = `name: t
description: d
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]
vms: [{ id: vm1, mdevs: [{ id: m1, parent: dsa0 }] }]
`;
const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('vsva-sim run: bad input is exit 2, whatever it is', () => {
  it('a FIFO, /dev/zero and a directory are refused as not regular files, without blocking', () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    for (const [f, kind] of [[fifo, 'a FIFO'], ['/dev/zero', 'a character device'], [dir, 'a directory']] as const) {
      const r = cli(['run', f, '--policy', 'v2', '--engine', 'embedded']);
      expect(r.signal, f).toBeNull();
      expect(r.code, f).toBe(2);
      expect(r.stderr).toContain(`${f}: invalid scenario`);
      expect(r.stderr).toContain(`not a regular file (${kind})`);
    }
  });

  it('a YAML alias bomb is exit 2 naming VSVA_MAX_YAML_ALIASES', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    'abcdefghi'.split('').slice(1).forEach((x, i) => lines.push(`${x}: &${x} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`));
    const r = cli(['run', write('lol.yaml', `${lines.join('\n')}\n`), '--policy', 'v2', '--engine', 'embedded']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/aliases expand too much.*set VSVA_MAX_YAML_ALIASES to raise it/);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it('a schema-valid workload of 200,000 ops is exit 2 naming the limits, not a stack overflow', () => {
    const wl = Array.from({ length: 20 }, () => '  - { mdev: m1, pasid: 5, op: dma, va: 0, from: 1, count: 10000 }').join('\n');
    const r = cli(['run', write('wide.yaml', `${HEAD}steps:\n  - { op: quiesce }\nworkload:\n${wl}\n`), '--policy', 'v2', '--engine', 'embedded', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the workload expands to 200000 ops (the sum of its count), over the limit of 40000 (set VSVA_MAX_WORKLOAD_OPS to raise it)');
    expect(r.stderr).toContain('set VSVA_MAX_PLANNED_STEPS to raise it');
    expect(r.stderr).not.toMatch(/internal error|call stack/);
  });

  it('a limit is raised by its variable; a malformed one is exit 2', () => {
    const f = write('six.yaml', `${HEAD}steps:\n${'  - { op: quiesce }\n'.repeat(6)}`);
    const over = cli(['run', f, '--policy', 'v2', '--engine', 'embedded', '-q'], { VSVA_MAX_STEPS: '5' });
    expect(over.code).toBe(2);
    expect(over.stderr).toContain('6 steps, over the limit of 5 (set VSVA_MAX_STEPS to raise it)');
    expect(cli(['run', f, '--policy', 'v2', '--engine', 'embedded', '-q'], { VSVA_MAX_STEPS: '6' }).code).toBe(0);
    const bad = cli(['run', f, '--policy', 'v2', '--engine', 'embedded', '-q'], { VSVA_MAX_STEPS: 'many' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("VSVA_MAX_STEPS must be a positive integer, got 'many'");
  });

  it('run --help lists every limit with its variable and default', () => {
    const r = cli(['run', '--help']);
    expect(r.code).toBe(0);
    for (const v of ['VSVA_MAX_SCENARIO_BYTES', 'VSVA_MAX_STEPS', 'VSVA_MAX_VMS', 'VSVA_MAX_MDEVS', 'VSVA_MAX_PARENTS', 'VSVA_MAX_WORKLOAD_OPS', 'VSVA_MAX_PLANNED_STEPS', 'VSVA_MAX_YAML_ALIASES']) {
      expect(r.stdout).toMatch(new RegExp(`${v}\\s+.*default \\d+`));
    }
  });

  it('--export into a folder that does not exist is exit 2 before anything runs', () => {
    const out = join(dir, 'no', 'such', 'folder', 'run.ndjson');
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--engine', 'embedded', '--export', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`the folder ${join(dir, 'no', 'such', 'folder')} does not exist`);
    expect(r.stderr).not.toMatch(/internal error|verdict:/);
    expect(existsSync(out)).toBe(false);
    const asDir = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--engine', 'embedded', '--export', dir]);
    expect(asDir.code).toBe(2);
    expect(asDir.stderr).toContain('is a folder; name the file to write');
  });
});

describe('one step numbering in the timeline and the outcomes', () => {
  it('each outcome names its step as the timeline does: steps[i] of the file and plan[j] of the log', () => {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v1', '--engine', 'embedded']);
    expect(r.code).toBe(1);
    const [timeline, summary] = [r.stderr.slice(0, r.stderr.indexOf('verdict:')), r.stderr.slice(r.stderr.indexOf('outcomes:'))];
    const outcomes = summary.split('\n').filter((l) => /^ {2}steps\[\d+\] plan\[\d+\] /.test(l));
    expect(outcomes.length).toBeGreaterThan(0);
    for (const line of outcomes) {
      const [label, op] = line.trim().split(/\s+/).reduce<string[]>((acc, w, i) => (i < 2 ? [`${acc[0] ?? ''}${i ? ' ' : ''}${w}`] : i === 2 ? [acc[0]!, w] : acc), []);
      // the step's completion in the timeline carries the same label and the same op
      expect(timeline).toMatch(new RegExp(`step\\.completed\\s+${label!.replace(/[[\]]/g, '\\$&')} op=${op}`));
    }
    // and the old unlabelled "step N" is gone from both
    expect(r.stderr).not.toMatch(/\bstep \d+\b/);
  });
});

describe('the human report', () => {
  const report = (outcome: Partial<RunReport['outcomes'][number]>): RunReport => ({
    runId: 'r', scenario: { name: 's' }, policy: { preset: 'v2', kernel: 'k', overrides: {} }, engine: 'embedded', seed: 1, verdict: 'fail',
    violations: [], checked: [], dmesg: [], stats: { entries: 1, inputs: 0, commands: 0, events: 1, wallMs: 0 }, reproduce: 'x',
    outcomes: [{ step: 7, phase: 'scenario', scenarioIndex: 2, op: 'bind', result: 'ok', ret: 0, expected: null, asExpected: true, seq: 151, ...outcome }],
  });

  it('a step that timed out reads timeout, not ok', () => {
    const text = formatReport(report({ result: 'timeout', ret: 0, expected: 'ok', asExpected: false }));
    expect(text).toMatch(/steps\[2\] plan\[7\] bind\s+timeout \(never completed\) {2}EXPECTED ok/);
    expect(text).not.toMatch(/bind\s+ok/);
  });

  it('a setup step that timed out is listed as failed', () => {
    const text = formatReport(report({ phase: 'setup', scenarioIndex: null, step: 1, op: 'vfio_attach_group', result: 'timeout', ret: 0 }));
    expect(text).toContain('setup plan[1] vfio_attach_group failed: timeout (never completed)');
  });
});
