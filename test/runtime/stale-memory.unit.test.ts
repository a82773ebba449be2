import { describe, expect, it } from 'vitest';
import { resolvePolicy, type Envelope } from '../../libs/contracts/src/index.js';
import { MemoryRunLog } from '../../libs/event-log/src/index.js';
import { ComponentHost, type Outbox } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

// Two processes of one service (replicas), the second having taken a run's partition over while the
// first was paused mid-input: the first must not append a decision made on the state it remembers.

const runId = 'stale-memory';
const outbox: Outbox = { send: async () => {}, sendAll: async () => {} };
const policy = resolvePolicy('mainline');
const sc = loadScenario('scenarios/seed-null-iommu-device.yaml');

async function openLog(): Promise<MemoryRunLog> {
  const log = new MemoryRunLog();
  await log.putRunMeta({ runId, scenario: { name: runId }, policy, seed: 1, engine: 'cluster', startedAt: 0, status: 'running' });
  await log.openRun(runId, 'open');
  return log;
}

const open: Envelope = {
  runId, id: 'orch.1', type: 'run.open', from: 'orchestrator', to: 'host-vtd', causationId: null, correlationId: runId, lamport: 1, chan: 1,
  payload: { preset: policy.preset, policy: policy.values, topology: { host: sc.host, parents: sc.parents, vms: sc.vms } },
};
const alloc = (n: number): Envelope => ({
  runId, id: `vfio.${n}`, type: 'ioasid_alloc', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: runId, lamport: n, payload: { set: 'vm1', min: 1, max: 100, tag: `vfio.${n}` },
});
const allocated = async (log: MemoryRunLog) => (await log.read(runId)).filter((e) => e.type === 'ioasid.allocated').map((e) => (e.payload as { pasid?: number; value?: number }));

describe('a host whose memory of a run is behind the log', () => {
  it('has its append refused, rebuilds, and decides again: no PASID handed out twice, the log as one host would write it', async () => {
    const log = await openLog();
    const a = new ComponentHost('host-vtd', log, outbox, { clock: () => undefined });
    const b = new ComponentHost('host-vtd', log, outbox, { clock: () => undefined });
    await a.deliver(open);
    await a.deliver(alloc(1));
    // b took the partition over: it folds the run from the log and consumes the next input
    await b.deliver(alloc(2));
    const before = await log.read(runId);
    // a resumes with the state it remembers (one PASID allocated): refused, nothing written
    await expect(a.deliver(alloc(3))).rejects.toMatchObject({ name: 'StaleMemoryError', retryAfterMs: 0 });
    expect(await log.read(runId)).toEqual(before);
    expect(a.stats.stale).toBe(1);
    // handed out again: decided on the state rebuilt from the log
    await a.deliver(alloc(3));
    expect(a.stats.rebuilds).toBe(1);

    const one = await openLog();
    const single = new ComponentHost('host-vtd', one, outbox, { clock: () => undefined });
    for (const e of [open, alloc(1), alloc(2), alloc(3)]) await single.deliver(e);
    expect(await log.read(runId)).toEqual(await one.read(runId));
    const values = await allocated(log);
    expect(values).toHaveLength(3);
    expect(new Set(values.map((v) => JSON.stringify(v))).size).toBe(3);
  });
});
