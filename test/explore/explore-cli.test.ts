import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `vsva-sim explore` as a user runs it: the built CLI (npm run build), the embedded engine, no Redis.

const root = mkdtempSync(join(tmpdir(), 'vsva-explore-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = { ...process.env, REDIS_URL: '', VSVA_REDIS_URL: '', VSVA_STATE_DIR: join(root, 'state'), VSVA_PREFIX: `vsvatest-explore-${process.pid}` };

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], { encoding: 'utf8', env, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vsva-sim explore', () => {
  it('under v1 reports no-host-oops with a shrunk scenario that `vsva-sim run` fails with no-host-oops by itself', () => {
    const out = join(root, 'v1');
    const r = cli(['explore', '--policy', 'v1', '--budget', '400', '--seed', '1', '--json', '--out', out]);
    expect(r.code, r.stderr).toBe(1);
    const o = JSON.parse(r.stdout);
    expect(o).toMatchObject({ ok: false, seed: 1, runs: 400, policy: { preset: 'v1' } });
    const oops = o.findings.find((f: { invariant: string }) => f.invariant === 'no-host-oops');
    expect(oops.shrunkSteps).toBeLessThanOrEqual(7);
    expect(existsSync(oops.files.scenario) && existsSync(oops.files.original) && existsSync(oops.files.log)).toBe(true);
    // findings are distinct by (invariant, signature)
    expect(new Set(o.findings.map((f: { invariant: string; signature: string }) => `${f.invariant} ${f.signature}`)).size).toBe(o.findings.length);
    const [, , ...args] = (oops.reproduce as string).split(' ');
    const again = cli([...args, '--json', '-q']);
    expect(again.code, again.stderr).toBe(1);
    expect(JSON.parse(again.stdout).violations.map((v: { invariant: string }) => v.invariant)).toContain('no-host-oops');
  });

  it('continues in the same folder, and refuses a folder of another exploration', () => {
    const out = join(root, 'resume');
    expect(cli(['explore', '--policy', 'v1', '--budget', '32', '--json', '--no-shrink', '--out', out]).code).toBe(1);
    const r = cli(['explore', '--policy', 'v1', '--budget', '32', '--json', '--no-shrink', '--out', out]);
    expect(JSON.parse(r.stdout)).toMatchObject({ runs: 32, runsInFolder: 64 });
    expect(r.stderr).toContain('continuing at run 32');
    const other = cli(['explore', '--policy', 'v2', '--budget', '32', '--out', out]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/holds an exploration of seed 1 under v1/);
  });

  it.each([
    [['--budget', '10 minutes'], /--budget '10 minutes': give a number of runs/],
    [['--budget', '0'], /--budget '0'/],
    [['--policy', 'v99'], /v99/],
    [['--set', 'vtd.no_such_policy=true'], /vtd\.no_such_policy/],
    [['--set', 'noequals'], /--set expects key=value/],
    [['--faults', 'kill'], /kill/],
    [['--workers', '0'], /--workers must be 1 or more/],
  ])('bad input %j is exit 2 before anything runs', (flags, message) => {
    const out = join(root, `bad-${flags.join('')}`.replace(/[^a-z0-9-]/gi, '_'));
    const r = cli(['explore', ...flags, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('Ctrl-C stops after the batch in flight and keeps every finding written so far', { timeout: 180_000 }, async () => {
    const out = join(root, 'sigint');
    const child = spawn(process.execPath, ['bin/vsva-sim.js', 'explore', '--policy', 'v1', '--budget', '1h', '--out', out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const found = new Promise<void>((resolve) => child.stderr.on('data', (d) => {
      stderr += String(d);
      if (stderr.includes('✗ ')) resolve();
    }));
    const deadline = setTimeout(() => child.kill('SIGKILL'), 120_000);
    await found;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(deadline);
    expect(stderr).toContain('SIGINT: finishing the batch in flight and saving');
    expect(code).toBe(1);
    const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8'));
    expect(state.next).toBeGreaterThan(0);
    const findings = readdirSync(join(out, 'findings'));
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) expect(existsSync(join(out, 'findings', f, 'finding.json'))).toBe(true);
  });
});
