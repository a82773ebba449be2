import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { COMPONENTS } from '../../libs/contracts/src/index.js';
import { deletePrefix } from '../support/cluster.js';
import { testPrefix } from '../support/redis.js';
import { pidAlive, runCli, untilGone } from '../support/cli-process.js';
import { until } from '../support/until.js';

/** Issue 8, point 2: `up` supervises what it started; `restart` exists; `down` leaves nothing running. */
const stateDir = mkdtempSync(join(tmpdir(), 'vsva-sup-'));
const prefix = testPrefix('sup');
const env = () => ({ REDIS_URL: inject('redisUrl'), VSVA_PREFIX: prefix, VSVA_STATE_DIR: stateDir });
type Replica = { slot: number; pid: number; stats: Record<string, number> };
type Status = { owner: { pid: number; role: string } | null; partitions: number; services: Record<string, { pid: number; restarts: number; replicas: Replica[]; partitions: Array<{ slot?: number; pid: number } | null> } | null> };
const status = async (): Promise<Status> => JSON.parse((await runCli(['status', '--json'], env(), 30_000)).stdout);

afterAll(async () => {
  await runCli(['down'], env(), 30_000);
  await deletePrefix(inject('redisUrl'), prefix);
});

describe('vsva-sim up supervises the services', () => {
  it('a crashed service comes back and status shows the restart; restart <service> works; down stops everything', async () => {
    const up = await runCli(['up'], env(), 60_000);
    expect(up.code, up.stderr).toBe(0);
    const s0 = await status();
    expect(s0.owner?.role).toBe('up');
    expect(COMPONENTS.every((c) => s0.services[c])).toBe(true);

    // SIGKILL host-vtd: the supervisor restarts it and counts it
    const dead = s0.services['host-vtd']!.pid;
    process.kill(dead, 'SIGKILL');
    const s1 = await until('host-vtd restarted', async () => {
      const s = await status();
      // the count travels in the supervisor's next heartbeat
      return s.services['host-vtd'] && s.services['host-vtd'].pid !== dead && s.services['host-vtd'].restarts > 0 ? s : undefined;
    }, 30_000, 200);
    expect(s1.services['host-vtd']!.restarts).toBe(1);
    expect(readFileSync(join(stateDir, 'logs', 'supervisor.log'), 'utf8')).toMatch(new RegExp(`host-vtd \\(pid ${dead}\\) exited \\(SIGKILL\\); restart #1`));

    // a run still works on the supervised cluster
    const run = await runCli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', 'v2', '--engine', 'cluster', '-q'], env(), 60_000);
    expect(run.code, run.stderr).toBe(0);

    const old = s1.services['vfio-type1']!.pid;
    const r = await runCli(['restart', 'vfio-type1'], env(), 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`vfio-type1: restarted \\(pid ${old} → \\d+\\) by the supervisor`));

    const s2 = await status();
    const pids = [s2.owner!.pid, ...COMPONENTS.map((c) => s2.services[c]!.pid)];
    expect(pids.every(pidAlive)).toBe(true);
    const down = await runCli(['down'], env(), 30_000);
    expect(down.code, down.stderr).toBe(0);
    expect(await untilGone(pids, 10_000), 'processes left running after down').toEqual([]);
  });

  it('up --replicas 2: two processes of each service share its partitions, the corpus passes on them, both replicas of each service consume', async () => {
    const up = await runCli(['up', '--replicas', '2'], env(), 90_000);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/2 replicas per service/);
    const s0 = await status();
    for (const c of COMPONENTS) {
      const svc = s0.services[c]!;
      expect(svc.replicas.map((r) => r.slot), c).toEqual([0, 1]);
      // up returns once each replica owns its share: partition i is slot (i mod 2)'s
      expect(svc.partitions.map((o) => o?.slot), c).toEqual(Array.from({ length: s0.partitions }, (_, i) => i % 2));
    }
    const corpus = await runCli(['corpus', '--engine', 'cluster', '--jobs', '4', '--json'], env(), 300_000);
    expect(corpus.code, corpus.stderr).toBe(0);
    expect(corpus.stderr).toMatch(/using the running services/);
    expect(JSON.parse(corpus.stdout).ok).toBe(true);
    const s1 = await status();
    // the corpus's runs spread over the partitions: every replica of every service consumed some
    for (const c of COMPONENTS) for (const r of s1.services[c]!.replicas) expect(r.stats.inputs, `${c} #${r.slot}`).toBeGreaterThan(0);
    const pids = [s1.owner!.pid, ...COMPONENTS.flatMap((c) => s1.services[c]!.replicas.map((r) => r.pid))];
    expect(pids).toHaveLength(11);
    const down = await runCli(['down'], env(), 30_000);
    expect(down.code, down.stderr).toBe(0);
    expect(await untilGone(pids, 10_000), 'processes left running after down').toEqual([]);
  });
});
