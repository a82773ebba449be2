import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resolvePolicy, type Envelope } from '../../libs/contracts/src/index.js';
import { ComponentHost, runStartEnvelope, type Outbox } from '../../libs/runtime/src/index.js';
import { RedisRunLog } from '../../libs/event-log/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { deletePrefix } from '../support/cluster.js';
import { testPrefix } from '../support/redis.js';

/** An outbox that records what it was asked to send. */
class RecordingOutbox {
  sent: Envelope[] = [];
  async sendAll(es: Envelope[]) {
    this.sent.push(...es);
  }
}

let log: RedisRunLog;
let prefix: string;

beforeAll(async () => {
  prefix = testPrefix('idem');
  log = new RedisRunLog(new Redis(inject('redisUrl')), { prefix });
  // what the run coordinator does before it sends run.start: the run has meta and its log is open
  await log.putRunMeta({ runId: 'idem-1', scenario: { name: 'seed' }, policy: resolvePolicy('v2'), seed: 1, engine: 'cluster', startedAt: 1, status: 'running' });
  await log.openRun('idem-1');
});
afterAll(async () => {
  await log.close();
  await deletePrefix(inject('redisUrl'), prefix);
});

describe('exactly-once effects over at-least-once delivery', () => {
  const start = runStartEnvelope('idem-1', { scenario: loadScenario('scenarios/seed-null-iommu-device.yaml'), policy: resolvePolicy('v2'), seed: 1 });

  it('a job delivered twice is decided once; the second delivery re-emits the recorded commands', async () => {
    const out = new RecordingOutbox();
    const host = new ComponentHost('orchestrator', log, out as unknown as Outbox);
    await host.deliver(start);
    const afterFirst = await log.read('idem-1');
    const firstSends = [...out.sent];
    await host.deliver(start);
    expect(await log.read('idem-1')).toEqual(afterFirst);
    expect(afterFirst.filter((e) => e.kind === 'input')).toHaveLength(1);
    expect(out.sent.slice(firstSends.length)).toEqual(firstSends);
    expect(host.stats).toMatchObject({ inputs: 1, duplicates: 1 });
  });

  it('a restarted service (no memory) rebuilds from the log and still decides nothing twice', async () => {
    const out = new RecordingOutbox();
    const fresh = new ComponentHost('orchestrator', log, out as unknown as Outbox);
    const before = await log.length('idem-1');
    await fresh.deliver(start);
    expect(await log.length('idem-1')).toBe(before);
    expect(fresh.stats).toMatchObject({ inputs: 0, duplicates: 1, rebuilds: 1 });
    expect(out.sent.map((e) => e.type)).toContain('run.open');
  });

  it('a malformed envelope goes to the dead-letter stream with its reason and changes nothing', async () => {
    const host = new ComponentHost('vfio-type1', log, new RecordingOutbox() as unknown as Outbox);
    const before = await log.length('idem-1');
    await host.deliver({ runId: 'idem-1', id: 'x', type: 'VFIO_IOMMU_PASID_REQUEST', lamport: -3 });
    await host.deliver({ ...start, to: 'host-vtd' });
    expect(await log.length('idem-1')).toBe(before);
    const dl = await log.readDeadLetters('idem-1');
    expect(dl).toHaveLength(2);
    expect(dl[0]!.reason).toMatch(/malformed envelope: .*lamport/);
    expect(dl[1]!.reason).toMatch(/addressed to host-vtd/);
    expect(host.stats.deadLetters).toBe(2);
  });
});
