import { describe, expect, it } from 'vitest';
import { resolvePolicy, type Envelope, type LogEntry } from '../../libs/contracts/src/index.js';
import { MemoryRunLog } from '../../libs/event-log/src/index.js';
import { ComponentHost, type Outbox } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

// The orchestrator's run watch takes a host's 'entries' as they are appended: they must be the log's
// entries, key for key, whether the host built them (a fresh append) or the log answered a redelivery.

const runId = 'host-entries';
const policy = resolvePolicy('mainline');
const sc = loadScenario('scenarios/seed-null-iommu-device.yaml');
const outbox: Outbox = { send: async () => {}, sendAll: async () => {} };

const open: Envelope = {
  runId, id: 'orch.1', type: 'run.open', from: 'orchestrator', to: 'host-vtd', causationId: null, correlationId: runId, lamport: 1, chan: 1,
  payload: { preset: policy.preset, policy: policy.values, topology: { host: sc.host, parents: sc.parents, vms: sc.vms } },
};
const alloc: Envelope = {
  runId, id: 'vfio.1', type: 'ioasid_alloc', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: runId, lamport: 2, chan: 1, payload: { set: 'vm1', min: 1, max: 100, tag: 'vfio.1' },
};

describe("a host's 'entries'", () => {
  it('are the entries the log holds, for a fresh append and for a redelivery answered from its marker', async () => {
    const log = new MemoryRunLog();
    await log.putRunMeta({ runId, scenario: { name: runId }, policy, seed: 1, engine: 'cluster', startedAt: 0, status: 'running' });
    await log.openRun(runId, 'open');
    const host = new ComponentHost('host-vtd', log, outbox, { clock: () => 1_700_000_000_000 });
    const seen: LogEntry[][] = [];
    host.on('entries', (es: LogEntry[]) => seen.push(es));
    await host.deliver(open);
    await host.deliver(alloc);
    await host.deliver(alloc);
    expect(host.stats).toMatchObject({ inputs: 2, duplicates: 1 });
    const all = await log.read(runId);
    expect(seen.flat().slice(0, all.length)).toEqual(all);
    // the redelivery: what was recorded the first time
    expect(seen[2]).toEqual(seen[1]);
    expect(seen[1]![0]).toMatchObject({ seq: seen[0]!.length + 1, kind: 'input', causationId: 'vfio.1', ts: 1_700_000_000_000 });
  });
});
