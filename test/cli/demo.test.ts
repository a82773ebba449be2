import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { deletePrefix } from '../support/cluster.js';
import { testPrefix } from '../support/redis.js';

const prefix = testPrefix('demo');
afterAll(() => deletePrefix(inject('redisUrl'), prefix));

describe('npm run demo (the README\'s first command)', () => {
  it('brings a cluster up, shows the seed bug under v1 and its fix under v2, and brings it down', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'vsva-demo-'));
    const r = spawnSync(process.execPath, ['scripts/demo.js'], {
      encoding: 'utf8', env: { ...process.env, REDIS_URL: inject('redisUrl'), VSVA_PREFIX: prefix, VSVA_STATE_DIR: stateDir },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^v1\s+exit 1\s+fail\s+bind → host oops\s+\d+\s+no-host-oops/m);
    expect(r.stdout).toMatch(/^v2\s+exit 0\s+pass\s+bind → EINVAL\s+\d+\s+none/m);
    expect(r.stdout).toMatch(/intel_svm_bind_gpasid/);
    // where to see each run: its dashboard URL and its diagram command, both readable after `down`
    const v1 = /^ {2}v1 {2}http:\/\/127\.0\.0\.1:7480\/runs\/(\S+)\n {6}npx vsva-sim diagram (\S+)$/m.exec(r.stdout);
    expect(v1, r.stdout).not.toBeNull();
    expect(v1![1]).toBe(v1![2]);
    expect(r.stdout).toMatch(/^ {2}v2 {2}http:\/\/127\.0\.0\.1:7480\/runs\/\S+$/m);
    const d = spawnSync(process.execPath, ['bin/vsva-sim.js', 'diagram', v1![2]!], { encoding: 'utf8', env: { ...process.env, REDIS_URL: '', VSVA_STATE_DIR: stateDir } });
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/dev=NULL/);
    // the timelines went to stderr, and `down` removed the cluster's state
    expect(r.stderr).toMatch(/cluster up in \d+ ms/);
    expect(r.stderr).toMatch(/cluster down: stopped (the supervisor and )?5 services/);
    expect(existsSync(join(stateDir, 'cluster.json'))).toBe(false);
  });
});
