import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../libs/redis/src/index.js';
import { jsonError, jsonRequested } from '../../apps/cli/src/json-output.js';

// issue 8: `--json` prints exactly one JSON object on stdout whatever happens; no credential of
// REDIS_URL in any output, log or state file. The built CLI (npm run build), as a user runs it.

const PASSWORD = 'cli-Secret-4d2c';
let redis: PrivateRedis;

beforeAll(async () => {
  redis = await startPrivateRedis({ appendonly: false, password: PASSWORD });
});
afterAll(async () => {
  await redis?.stop();
});

function cli(args: string[], env: Record<string, string> = {}) {
  const stateDir = mkdtempSync(join(tmpdir(), 'vsva-outputs-state-'));
  const r = spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, REDIS_URL: '', VSVA_REDIS_URL: '', VSVA_STATE_DIR: stateDir, VSVA_PREFIX: `vsvatest-outputs-${process.pid}`, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, stateDir };
}

/** stdout is exactly one JSON object on one line; returns it. */
function theOneObject(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n');
  expect(lines.at(-1)).toBe('');
  expect(lines.slice(0, -1), stdout).toHaveLength(1);
  const v = JSON.parse(lines[0]!);
  expect(v).toBeTypeOf('object');
  expect(Array.isArray(v)).toBe(false);
  return v;
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));

describe('--json: one JSON object on stdout, whatever happens', () => {
  it('a pass: the report', () => {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--engine', 'embedded', '--json']);
    expect(r.code).toBe(0);
    expect(theOneObject(r.stdout)).toMatchObject({ verdict: 'pass', engine: 'embedded' });
    expect(r.stderr).toMatch(/verdict: PASS/);
  });

  it('an invariant violated (exit 1): the report', () => {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v1', '--engine', 'embedded', '--json', '-q']);
    expect(r.code).toBe(1);
    expect(theOneObject(r.stdout)).toMatchObject({ verdict: 'fail' });
  });

  it('a malformed scenario file (exit 2): an error object of kind bad-input; the human message on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsva-outputs-bad-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'name: broken\nhost: 3\n');
    const r = cli(['run', file, '--engine', 'embedded', '--json']);
    expect(r.code).toBe(2);
    const o = theOneObject(r.stdout);
    expect(o).toMatchObject({ ok: false, exitCode: 2, error: { kind: 'bad-input', message: expect.stringContaining('broken.yaml') } });
    expect(r.stderr).toContain('broken.yaml');
  });

  it('a scenario file that does not exist, and an unknown flag (exit 2): one error object each', () => {
    const missing = cli(['run', 'no/such/file.yaml', '--engine', 'embedded', '--json']);
    expect(missing.code).toBe(2);
    expect(theOneObject(missing.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { kind: 'bad-input' } });
    const flag = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--json', '--no-such-flag']);
    expect(flag.code).toBe(2);
    expect(theOneObject(flag.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { kind: 'bad-input', message: expect.stringContaining('--no-such-flag') } });
  });

  it('no Redis (exit 3): an error object of kind infrastructure, and the password of REDIS_URL nowhere', () => {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--engine', 'cluster', '--json'], { REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:1` });
    expect(r.code).toBe(3);
    const o = theOneObject(r.stdout);
    expect(o).toMatchObject({ ok: false, exitCode: 3, error: { kind: 'infrastructure', message: expect.stringContaining('redis://:***@127.0.0.1:1') } });
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });
});

describe('a cluster run on a Redis with a password (REDIS_URL), --log-format json', () => {
  it('one report on stdout; the password in no output, log or state file; every service log line is JSON', () => {
    const r = cli(['--log-format', 'json', 'run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--engine', 'cluster', '--json'], { REDIS_URL: redis.url });
    expect(r.code, r.stderr).toBe(0);
    expect(theOneObject(r.stdout)).toMatchObject({ verdict: 'pass', engine: 'cluster' });
    expect(r.stdout).not.toContain(PASSWORD);
    expect(r.stderr).not.toContain(PASSWORD);
    const files = filesUnder(r.stateDir);
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toContain(PASSWORD);
    const logs = files.filter((f) => f.endsWith('.log') && !f.endsWith('redis.log'));
    expect(logs.length).toBeGreaterThanOrEqual(5);
    for (const f of logs) {
      const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean);
      for (const l of lines) expect(() => JSON.parse(l), `${f}: ${l}`).not.toThrow();
    }
  });
});

describe('the error object', () => {
  it('kind by exit code, internal errors apart; the message redacted', () => {
    expect(jsonError(2, 'bad')).toEqual({ ok: false, exitCode: 2, error: { kind: 'bad-input', message: 'bad' } });
    expect(jsonError(3, `no Redis at redis://:${PASSWORD}@h:1`)).toEqual({ ok: false, exitCode: 3, error: { kind: 'infrastructure', message: 'no Redis at redis://:***@h:1' } });
    expect(jsonError(3, 'TypeError: x is undefined', true).error.kind).toBe('internal');
  });
  it('--json counts before a `--` only', () => {
    expect(jsonRequested(['run', 'f.yaml', '--json'])).toBe(true);
    expect(jsonRequested(['run', '--', '--json'])).toBe(false);
    expect(jsonRequested(['run', 'f.yaml'])).toBe(false);
  });
});
