import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Envelope, LogEntry } from '../../libs/contracts/src/index.js';
import { replayEntries, runEmbedded } from '../../libs/engine/src/index.js';
import { driveCluster, startTestCluster, type ClusterDriver, type TestCluster } from '../support/cluster.js';
import { corpus } from '../support/corpus.js';

let cluster: TestCluster;
let driver: ClusterDriver;

beforeAll(async () => {
  cluster = await startTestCluster(inject('redisUrl'), 'diff');
  driver = driveCluster(cluster);
});
afterAll(async () => {
  await driver?.close();
  await cluster?.stop();
});

const stripTs = (es: LogEntry[]) => es.map(({ ts: _ts, ...e }) => e);
const cases = corpus().flatMap((c) => c.policies.map((p) => ({ ...c, ...p })));

describe('cluster and embedded engines agree on the whole corpus', () => {
  it.each(cases.map((c) => [`${c.scenario.name} under ${c.label}`, c] as const))('%s', async (_name, c) => {
    const runId = `diff-${c.scenario.name}-${c.label.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    const policy = c.policy;
    const report = await driver.run({ runId, scenario: c.scenario, file: c.file, policy, seed: 1, reproduce: 'test' });
    const recorded = await driver.log.read(runId);
    expect(recorded.length).toBe(report.stats.entries);
    // the cluster run re-folds to the same outputs and states
    expect(replayEntries(recorded)).toMatchObject({ identical: true });
    // the embedded engine driven by the cluster's consumption order writes the same log, entry for entry
    const schedule = recorded.filter((e) => e.kind === 'input').map((e) => (e.payload as Envelope).id);
    const emb = await runEmbedded({ runId, scenario: c.scenario, policy, seed: 1, schedule });
    expect(stripTs(emb.entries)).toEqual(stripTs(recorded));
  });
});
