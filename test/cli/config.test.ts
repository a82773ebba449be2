import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 9: the environment is checked once, before any command runs. A bad value is bad input (exit 2)
// naming the variable and what it accepts; a password in a bad Redis URL is never printed. The built
// CLI as a user runs it; nothing here reaches a Redis.

function cli(args: string[], env: Record<string, string>) {
  const stateDir = mkdtempSync(join(tmpdir(), 'vsva-config-state-'));
  const r = spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], {
    encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
    env: { ...process.env, REDIS_URL: '', VSVA_REDIS_URL: '', VSVA_STATE_DIR: stateDir, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, stateDir };
}
const embedded = ['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--engine', 'embedded', '-q'];

describe('a bad configuration value', () => {
  it('is exit 2 naming the variable, what it accepts and its default, before the command does anything', () => {
    const r = cli(embedded, { VSVA_LEASE_MS: '5s' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe("vsva-sim: VSVA_LEASE_MS must be an integer >= 300, got '5s' (default: 6000)\n");
    // nothing ran: no state written
    expect(readdirSync(r.stateDir)).toEqual([]);
  });

  it('every bad variable in one line; --json gets one error object of kind bad-input', () => {
    const r = cli([...embedded, '--json'], { VSVA_LOG_FORMAT: 'xml', VSVA_PREFIX: 'a b' });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false, exitCode: 2,
      error: { kind: 'bad-input', message: expect.stringMatching(/^VSVA_PREFIX must be letters.*got 'a b'.*; VSVA_LOG_FORMAT must be text or json, got 'xml'/) },
    });
  });

  it('a Redis URL that is not one: named, never echoed (it may hold a password)', () => {
    for (const name of ['REDIS_URL', 'VSVA_REDIS_URL']) {
      const r = cli(['status'], { [name]: 'http://:Hunter-2x9@127.0.0.1:6379' });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^vsva-sim: ${name} must be a redis:// or rediss:// URL`));
      expect(r.stdout + r.stderr).not.toContain('Hunter-2x9');
    }
  });

  it('--help still works (nothing is checked before a command runs)', () => {
    const r = cli(['run', '--help'], { VSVA_LEASE_MS: 'x' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('VSVA_MAX_STEPS');
  });
});
