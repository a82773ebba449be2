import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COMPONENTS, resolvePolicy, type Component, type LogEntry } from '../../libs/contracts/src/index.js';
import { serviceStats } from '../../libs/cluster/src/index.js';
import type { RunReport } from '../../libs/runtime/src/index.js';
import { RedisRunLog, runKeys } from '../../libs/event-log/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { BullMqClient, queueName } from '../../libs/transport/src/index.js';
import { restartService, startTestCluster, type TestCluster } from '../support/cluster.js';
import { jobFate, killOnInput, type KillInfo } from './kill.js';
import { expectEachInputOnce, projection } from './support.js';

const SCENARIO = 'test/fixtures/scenarios/pasid-bind-loop.yaml';

let cluster: TestCluster;
let client: BullMqClient;
let log: RedisRunLog;
let reference: { report: RunReport; entries: LogEntry[] };

function startRun(runId: string): Promise<RunReport> {
  const req = { runId, scenario: loadScenario(SCENARIO), file: SCENARIO, policy: resolvePolicy('v3'), seed: 1, reproduce: 'test' };
  return firstValueFrom(client.send<RunReport>('run.start', req));
}

async function marks(runId: string): Promise<Record<string, string>> {
  return log.redis.hgetall(runKeys(runId, cluster.cfg.prefix).marks);
}

const outcomesOf = (r: RunReport) => r.outcomes.map(({ seq: _seq, ...o }) => o);

/** The killed run did what the undisturbed one did, component by component, each input once. */
async function expectSameAsReference(runId: string, report: RunReport): Promise<LogEntry[]> {
  const entries = await log.read(runId);
  expect(report.verdict).toBe('pass');
  expect(outcomesOf(report)).toEqual(outcomesOf(reference.report));
  for (const c of COMPONENTS) expect(projection(entries, c), c).toEqual(projection(reference.entries, c));
  expect(entries.length).toBe(reference.entries.length);
  expectEachInputOnce(entries, await marks(runId));
  return entries;
}

beforeAll(async () => {
  // fast redelivery: a dead service's job comes back within ~2 s of the crash (with the defaults ~7 s);
  // a snapshot every 100 entries, so that each restart starts from one
  const env = { VSVA_LOCK_MS: '1500', VSVA_STALLED_MS: '500', VSVA_SNAPSHOT_EVERY: '100' };
  cluster = await startTestCluster(inject('redisUrl'), 'kill', { env });
  client = new BullMqClient({ url: cluster.cfg.redisUrl, prefix: cluster.cfg.prefix, queue: queueName('orchestrator', 'ctl'), service: 'orchestrator', timeoutMs: 60_000 });
  log = RedisRunLog.fromUrl(cluster.cfg.redisUrl, { prefix: cluster.cfg.prefix });
  const report = await startRun('kill-reference');
  reference = { report, entries: await log.read('kill-reference') };
  expect(report.verdict).toBe('pass');
  expect(reference.entries.length).toBeGreaterThan(800);
  const { entries, wallMs } = report.stats;
  process.stderr.write(`[kill] undisturbed run: ${entries} entries in ${wallMs} ms (${Math.round((entries * 1000) / wallMs)} entries/s)\n`);
});

afterAll(async () => {
  await client?.close();
  await log?.close();
  await cluster?.stop();
});

/**
 * Kills `component` right after it records an input (killOnInput). If that missed the window between
 * its append and the end of its job (nothing recorded left to redeliver), it lets it come back and
 * tries again at a later input, so the test always covers a recorded input being redelivered.
 */
async function killMidJob(runId: string, component: Component, minSeq: number): Promise<KillInfo[]> {
  const kills: KillInfo[] = [];
  for (;;) {
    const kill = await killOnInput(cluster, runId, component, minSeq);
    kills.push(kill);
    if (kill.held.some((j) => j.recorded) || kills.length === 5) return kills;
    await restartService(cluster, component);
    minSeq = kill.atSeq + 1;
  }
}

/** Every job the dead processes held was redelivered (stalled, not failed) and completed by a new one. */
async function expectRedelivered(component: Component, kills: KillInfo[]): Promise<void> {
  const held = kills.flatMap((k) => k.held);
  expect(held.filter((j) => j.recorded), 'a recorded input was in flight when the service died').toHaveLength(1);
  for (const job of held) expect(await jobFate(cluster, job.queue, job.jobId), job.jobId).toMatchObject({ state: 'completed', stalled: 1 });
  const h = await serviceStats(cluster.cfg, component);
  // the recorded input came back and was recognised by its marker, not decided again
  expect(h?.stats.duplicates, 'duplicates seen by the restarted service').toBeGreaterThanOrEqual(1);
  expect(h?.stats.rebuilds, 'the restarted service rebuilt the run from the log').toBeGreaterThanOrEqual(1);
  expect(h?.stats.snapshotsLoaded, '... starting from its snapshot').toBe(1);
  process.stderr.write(`[kill] ${component}: killed after seq ${kills.map((k) => k.atSeq).join(', ')}; held ${JSON.stringify(held)}; restarted service's stats ${JSON.stringify(h?.stats)}\n`);
}

describe('a service killed with SIGKILL mid-run restarts, rebuilds from the log and the run ends as if nothing happened', () => {
  const services: Component[] = ['guest-viommu', 'vfio-type1', 'mdev-parent', 'host-vtd'];

  for (const [i, component] of services.entries()) {
    it(`${component}`, async () => {
      const runId = `kill-${component}`;
      const report = startRun(runId);
      // mid-way, a different point for each service
      const kills = await killMidJob(runId, component, Math.round(reference.entries.length * (0.25 + 0.1 * i)));
      await restartService(cluster, component);
      await expectSameAsReference(runId, await report);
      await expectRedelivered(component, kills);
    });
  }

  it('orchestrator: the redelivered run.start does not start the run again, and the report still comes back', async () => {
    const runId = 'kill-orchestrator';
    const report = startRun(runId);
    const kills = await killMidJob(runId, 'orchestrator', Math.round(reference.entries.length * 0.45));
    await restartService(cluster, 'orchestrator');
    const entries = await expectSameAsReference(runId, await report);
    expect(entries.filter((e) => e.kind === 'input' && e.type === 'run.start')).toHaveLength(1);
    expect(entries.some((e) => e.type === 'step.timeout')).toBe(false);
    await expectRedelivered('orchestrator', kills);
  });
});
