import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { testPrefix } from '../support/redis.js';

/** The CLI as a user runs it (from dist/), asynchronously: the bench takes most of a minute. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/vsva-sim.js', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const FIGURES = ['hop-throughput', 'hop-throughput-chain', 'hop-latency-p50', 'hop-latency-p99', 'log-append', 'replay', 'embedded', 'scale-out-redis-1r', 'scale-out-redis-2r'];

describe('vsva-sim bench --quick --json', () => {
  it('prints one object with the machine and every figure beside its peer, writes it to --out, and leaves no keys behind', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = testPrefix('bench');
    const dir = mkdtempSync(join(tmpdir(), 'vsva-bench-test-'));
    const out = join(dir, 'bench.json');
    let written: unknown;
    let r: Awaited<ReturnType<typeof cli>>;
    try {
      r = await cli(['bench', '--quick', '--json', '--out', out], { REDIS_URL: redisUrl, VSVA_REDIS_URL: '', VSVA_BENCH_PREFIX: prefix });
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      written = JSON.parse(readFileSync(out, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const res = JSON.parse(lines[0]!);
    expect(written).toEqual(res);

    expect(res).toMatchObject({ tool: 'vsva-sim bench', mode: 'quick' });
    expect(res.machine).toMatchObject({ cores: expect.any(Number), node: process.version });
    expect(res.machine.redis).toMatchObject({ version: expect.any(String), source: 'REDIS_URL', appendonly: expect.any(String), appendfsync: expect.any(String) });

    const ids = res.figures.map((f: { id: string }) => f.id);
    expect(ids).toEqual(expect.arrayContaining(FIGURES));
    for (const kind of ['scale-hop-throughput-', 'scale-memory-per-entry-']) expect(ids.some((id: string) => id.startsWith(kind)), kind).toBe(true);
    for (const f of res.figures) {
      expect(f, f.id).toMatchObject({ name: expect.any(String), value: expect.any(Number), unit: expect.any(String), ratio: expect.any(Number) });
      expect(f.peer, f.id).toMatchObject({ name: expect.any(String), value: expect.any(Number) });
      expect(f, f.id).toHaveProperty('goal');
      if (f.goal !== null) expect(f.goal, f.id).toMatchObject({ op: expect.stringMatching(/^(>=|<=)$/), value: expect.any(Number) });
      expect(f.spread.trials.length, f.id).toBeGreaterThan(0);
      expect(f.peer.spread.trials.length, f.id).toBeGreaterThan(0);
      expect(typeof f.config, f.id).toBe('object');
    }
    // the human table went to stderr, with every figure
    for (const id of FIGURES) expect(r.stderr).toContain(id);

    const redis = new Redis(redisUrl);
    try {
      // the scale-out figure's clusters run under prefixes of their own beside the bench's: gone too
      const [, left] = await redis.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000);
      expect(left).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 240_000);
});
