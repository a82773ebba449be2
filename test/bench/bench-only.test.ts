import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// `vsva-sim bench --only`: one figure, and only what it needs (the embedded engine needs no Redis).
const cli = (args: string[]) =>
  spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], { encoding: 'utf8', env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', VSVA_REDIS_URL: '' } });

describe('vsva-sim bench --only', () => {
  it('embedded: that figure alone, with no Redis (REDIS_URL points at nothing) and no services', () => {
    const r = cli(['bench', '--quick', '--only', 'embedded', '--json']);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ mode: 'quick', only: ['embedded'], command: 'vsva-sim bench --quick --only embedded --json' });
    expect(res.machine.redis).toBeNull();
    expect(res.figures.map((f: { id: string }) => f.id)).toEqual(['embedded']);
    expect(res.figures[0].value).toBeGreaterThan(0);
    expect(r.stderr).toContain('no Redis');
  });

  it('a figure it does not know: exit 2, naming the ones it knows', () => {
    const r = cli(['bench', '--only', 'embeded']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no figure embeded .*log-append, replay, embedded, chaos, hop-throughput, hop-latency, scale, scale-out, explore/);
  });
});
