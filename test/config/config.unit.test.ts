import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, LIMIT_ENV, loadConfig, redisUrlsIn, VARIABLE_NAMES, VARIABLES, type VariableName } from '../../libs/config/src/index.js';

// The environment, read in one place (issue 9): defaults, the Redis rule, and an error for each bad value
// that names the variable and what it accepts. No Redis, no process.

const errorOf = (env: NodeJS.ProcessEnv): ConfigError => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
};

describe('loadConfig', () => {
  it('an empty environment gives the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toEqual({
      redisUrl: undefined, prefix: 'vsva', redisFsync: 'always', stateDir: join(process.cwd(), '.vsva'),
      leaseMs: 6000, partitions: 4, replicas: 1, lockMs: 5000, stalledMs: 2000, maxStalled: 1000, snapshotEvery: 2000, exitWithParent: false,
      logFormat: 'text', logLevel: 'info', service: 'vsva-sim', benchPrefix: undefined,
      limits: { bytes: 8 * 1024 * 1024, steps: 30_000, vms: 4096, mdevs: 4096, parents: 4096, workloadOps: 40_000, plannedSteps: 50_000, yamlAliases: 100, yamlDepth: 64 },
    });
    expect(DEFAULTS).toEqual(c);
    // every default is the one its variable documents
    for (const n of VARIABLE_NAMES) if (typeof VARIABLES[n].default === 'number') expect(VARIABLES[n].defaultText, n).toBe(String(VARIABLES[n].default));
  });

  it('is frozen, and parsed once: the same values give the same object', () => {
    const env = { VSVA_PREFIX: 'p1', VSVA_LOCK_MS: '700' };
    const c = loadConfig(env);
    expect(Object.isFrozen(c) && Object.isFrozen(c.limits)).toBe(true);
    expect(loadConfig({ ...env })).toBe(c);
    expect(loadConfig({ ...env, VSVA_LOCK_MS: '800' }).lockMs).toBe(800);
  });

  it('Redis: VSVA_REDIS_URL wins over REDIS_URL; a blank one counts as unset', () => {
    const a = 'redis://a:6379';
    const b = 'rediss://:pw@b:6380/1';
    expect(loadConfig({ REDIS_URL: a }).redisUrl).toBe(a);
    expect(loadConfig({ VSVA_REDIS_URL: b }).redisUrl).toBe(b);
    expect(loadConfig({ REDIS_URL: a, VSVA_REDIS_URL: b }).redisUrl).toBe(b);
    expect(loadConfig({ REDIS_URL: a, VSVA_REDIS_URL: '' }).redisUrl).toBe(a);
    expect(loadConfig({ REDIS_URL: ' ', VSVA_REDIS_URL: '' }).redisUrl).toBeUndefined();
    // for redaction, both: the one that lost still holds a password
    expect(redisUrlsIn({ REDIS_URL: a, VSVA_REDIS_URL: b })).toEqual([b, a]);
    expect(redisUrlsIn({ REDIS_URL: '', VSVA_REDIS_URL: 'not a url' })).toEqual(['not a url']);
  });

  it('a blank variable counts as unset; values are trimmed and case-insensitive where that makes sense', () => {
    const c = loadConfig({ VSVA_PREFIX: '', VSVA_MAX_STEPS: ' 12 ', VSVA_LOG_FORMAT: 'JSON', VSVA_LOG_LEVEL: 'Debug', VSVA_EXIT_WITH_PARENT: '1', VSVA_STATE_DIR: 'st', VSVA_REDIS_FSYNC: ' EverySec' });
    expect(c).toMatchObject({ prefix: 'vsva', redisFsync: 'everysec', logFormat: 'json', logLevel: 'debug', exitWithParent: true, stateDir: join(process.cwd(), 'st') });
    expect(c.limits.steps).toBe(12);
  });

  it('the scenario limits come from their VSVA_MAX_* variables', () => {
    const env = Object.fromEntries(Object.values(LIMIT_ENV).map((n, i) => [n, String(i + 1)]));
    expect(Object.values(loadConfig(env).limits)).toEqual(Object.values(LIMIT_ENV).map((_, i) => i + 1));
  });

  // one bad value per variable that can have one: the error names it, the value, what is accepted and the default
  const bad: Array<[VariableName, string, RegExp]> = [
    ['VSVA_PREFIX', 'a:b', /^VSVA_PREFIX must be letters, digits, '\.', '_' and '-', starting with a letter or digit, got 'a:b' \(default: vsva\)$/],
    ['VSVA_PREFIX', '{tag}', /^VSVA_PREFIX must be letters/],
    ['VSVA_BENCH_PREFIX', 'has space', /^VSVA_BENCH_PREFIX must be letters, .*got 'has space'/],
    ['VSVA_REDIS_FSYNC', 'no', /^VSVA_REDIS_FSYNC must be always or everysec, got 'no' \(default: always\)$/],
    ['VSVA_LEASE_MS', '299', /^VSVA_LEASE_MS must be an integer >= 300, got '299' \(default: 6000\)$/],
    ['VSVA_LEASE_MS', '6e3', /^VSVA_LEASE_MS must be an integer >= 300, got '6e3'/],
    ['VSVA_LOCK_MS', '99', /^VSVA_LOCK_MS must be an integer >= 100, got '99' \(default: 5000\)$/],
    ['VSVA_STALLED_MS', '-5', /^VSVA_STALLED_MS must be an integer >= 50, got '-5'/],
    ['VSVA_MAX_STALLED', '0', /^VSVA_MAX_STALLED must be a positive integer, got '0' \(default: 1000\)$/],
    ['VSVA_SNAPSHOT_EVERY', '1.5', /^VSVA_SNAPSHOT_EVERY must be an integer >= 0, got '1\.5' \(default: 2000\)$/],
    ['VSVA_SNAPSHOT_EVERY', '99999999999999999999', /^VSVA_SNAPSHOT_EVERY must be an integer >= 0/],
    ['VSVA_EXIT_WITH_PARENT', 'yes', /^VSVA_EXIT_WITH_PARENT must be 0 or 1, got 'yes' \(default: 0\)$/],
    ['VSVA_LOG_FORMAT', 'xml', /^VSVA_LOG_FORMAT must be text or json, got 'xml' \(default: text\)$/],
    ['VSVA_LOG_LEVEL', 'loud', /^VSVA_LOG_LEVEL must be trace, debug, info, warn, error, fatal, silent, got 'loud' \(default: info\)$/],
    ['VSVA_MAX_STEPS', 'lots', /^VSVA_MAX_STEPS must be a positive integer, got 'lots' \(default: 30000\)$/],
    ['VSVA_MAX_PLANNED_STEPS', '0', /^VSVA_MAX_PLANNED_STEPS must be a positive integer, got '0'/],
  ];
  it.each(bad)('%s=%s: an error naming the variable and what it accepts', (name, value, message) => {
    const e = errorOf({ [name]: value });
    expect(e.problems).toEqual([{ variable: name, message: expect.stringMatching(message) }]);
    expect(e.message).toMatch(message);
  });

  it('every limit variable is checked', () => {
    for (const n of Object.values(LIMIT_ENV)) expect(errorOf({ [n]: 'x' }).message, n).toMatch(new RegExp(`^${n} must be a positive integer, got 'x'`));
  });

  it('a bad Redis URL is named, but never echoed (it may hold a password)', () => {
    for (const name of ['REDIS_URL', 'VSVA_REDIS_URL'] as const) {
      for (const value of ['http://:hunter22@h:1', 'hunter22@h:6379', 'localhost:6379']) {
        const e = errorOf({ [name]: value });
        expect(e.message).toMatch(new RegExp(`^${name} must be a redis:// or rediss:// URL .*not shown: it may hold a password`));
        expect(e.message).not.toContain('hunter22');
      }
    }
  });

  it('every bad variable at once, in one line', () => {
    const e = errorOf({ VSVA_LOCK_MS: 'x', VSVA_LOG_FORMAT: 'xml', VSVA_PREFIX: 'ok' });
    expect(e.problems.map((p) => p.variable)).toEqual(['VSVA_LOCK_MS', 'VSVA_LOG_FORMAT']);
    expect(e.message).not.toContain('\n');
  });
});
