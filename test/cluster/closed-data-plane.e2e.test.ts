import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resolvePolicy, type Component, type Envelope } from '../../libs/contracts/src/index.js';
import { QueueOutbox } from '../../libs/cluster/src/index.js';
import { loadConfig } from '../../libs/config/src/index.js';
import { replayPages } from '../../libs/engine/src/index.js';
import { ORPHAN_RUN_ID } from '../../libs/event-log/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { dataQueues } from '../../libs/transport/src/index.js';
import { driveCluster, startTestCluster, type ClusterDriver, type TestCluster } from '../support/cluster.js';

let cluster: TestCluster;
let driver: ClusterDriver;
let outbox: QueueOutbox;

beforeAll(async () => {
  cluster = await startTestCluster(inject('redisUrl'), 'closed-e2e');
  driver = driveCluster(cluster);
  outbox = new QueueOutbox(cluster.cfg, loadConfig().partitions);
});

afterAll(async () => {
  await outbox?.close();
  await driver?.close();
  await cluster?.stop();
});

/** Until the predicate holds (the services work asynchronously); the suite's timeout bounds it. */
async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await what();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a closed data plane, five processes over BullMQ', () => {
  it('a forged host call queued after the run finished is dead-lettered with its reason; the log is unchanged and replays identical', async () => {
    const runId = 'closed-e2e-v1';
    const report = await driver.run({ runId, scenario: loadScenario('scenarios/seed-null-iommu-device.yaml'), policy: resolvePolicy('v1'), seed: 1, reproduce: 'test' });
    expect(report.verdict).toBe('fail');
    const log = driver.log;
    expect(await log.runState(runId)).toBe('closed');
    const before = await log.read(runId);
    const bind = before.find((e) => e.kind === 'command' && e.to === 'host-vtd' && e.type === 'iommu_sva_bind_gpasid')!;
    const forged: Envelope = { runId, id: 'vfio.forged-1', type: bind.type, from: bind.component as Component, to: 'host-vtd', causationId: bind.causationId, correlationId: bind.correlationId, lamport: bind.lamport, payload: bind.payload };
    await outbox.send(forged);
    // and a run id the key scheme cannot hold
    await outbox.send({ ...forged, runId: 'a{b}c' });

    const dl = await until(() => log.readDeadLetters(runId), (d) => d.length > 0);
    expect(dl.map((d) => d.reason)).toEqual([
      `host-vtd: run ${runId} is closed (finished and settled; its log is final): iommu_sva_bind_gpasid vfio.forged-1 from vfio-type1 refused`,
    ]);
    const orphan = await until(() => log.readDeadLetters(ORPHAN_RUN_ID), (d) => d.some((x) => (x.raw as Envelope).runId === 'a{b}c'));
    expect(orphan.find((x) => (x.raw as Envelope).runId === 'a{b}c')!.reason).toMatch(/malformed envelope: runId: a run id must not contain braces/);
    expect(await log.read(runId)).toEqual(before);
    expect((await replayPages(log.readPages(runId))).identical).toBe(true);
    // both jobs completed: nothing in BullMQ's failed set without a reason
    for (const name of dataQueues('host-vtd', loadConfig().partitions)) {
      const q = new Queue(name, { connection: { url: cluster.cfg.redisUrl }, prefix: cluster.cfg.prefix });
      try {
        expect(await q.getFailedCount(), name).toBe(0);
      } finally {
        await q.close();
      }
    }
  });
});
