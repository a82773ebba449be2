import { describe, expect, it } from 'vitest';
import { resolvePolicy, type Envelope } from '../../libs/contracts/src/index.js';
import { MemoryRunLog } from '../../libs/event-log/src/index.js';
import { ComponentHost, type Outbox } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

// A queue payload crosses a process boundary: the component host checks it against the receiver's
// input schema (libs/contracts messages) before the decider takes it for the type it names.

const runId = 'payload-check';
const sent: Envelope[] = [];
const outbox: Outbox = { send: async (e) => void sent.push(e), sendAll: async (es) => void sent.push(...es) };

async function openLog(): Promise<MemoryRunLog> {
  const log = new MemoryRunLog();
  await log.putRunMeta({ runId, scenario: { name: 'payload-check' }, policy: resolvePolicy('mainline'), seed: 1, engine: 'cluster', startedAt: 0, status: 'running' });
  await log.openRun(runId, 'open');
  return log;
}

/** What the orchestrator sends every component first: a component takes nothing of a run before it. */
async function opened(host: ComponentHost, log: MemoryRunLog): Promise<number> {
  const sc = loadScenario('scenarios/seed-null-iommu-device.yaml');
  const policy = resolvePolicy('mainline');
  await host.deliver({
    runId, id: 'orch.1', type: 'run.open', from: 'orchestrator', to: 'host-vtd', causationId: null, correlationId: runId, lamport: 1, chan: 1,
    payload: { preset: policy.preset, policy: policy.values, topology: { host: sc.host, parents: sc.parents, vms: sc.vms } },
  });
  sent.length = 0;
  return (await log.read(runId)).length;
}

const alloc = (id: string, payload: unknown): Envelope => ({
  runId, id, type: 'ioasid_alloc', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: runId, lamport: 1, payload,
});

describe('the component host checks a delivered payload against its input schema', () => {
  it('a payload that is not the input its type names is dead-lettered with the field and why, and nothing is decided', async () => {
    const log = await openLog();
    sent.length = 0;
    const host = new ComponentHost('host-vtd', log, outbox, { clock: () => undefined });
    await host.deliver(alloc('vfio.1', { set: 'vm1', min: 'one', max: 10, tag: 'vfio.0' }));
    expect(await log.read(runId)).toEqual([]);
    expect(sent).toEqual([]);
    const [dead] = await log.readDeadLetters(runId);
    expect(dead!.reason).toMatch(/^host-vtd: payload of ioasid_alloc is not a host-vtd input: min: .*number/);
    expect(host.stats.deadLetters).toBe(1);
  });

  it('the same input with a well-formed payload is decided, recorded and answered', async () => {
    const log = await openLog();
    sent.length = 0;
    const host = new ComponentHost('host-vtd', log, outbox, { clock: () => undefined });
    const before = await opened(host, log);
    await host.deliver(alloc('vfio.1', { set: 'vm1', min: 1, max: 10, tag: 'vfio.0' }));
    const entries = (await log.read(runId)).slice(before);
    expect(entries.map((e) => `${e.kind} ${e.type}`)).toEqual(['input ioasid_alloc', 'event ioasid.allocated', 'command ioasid_alloc.ret']);
    expect(sent).toMatchObject([{ to: 'vfio-type1', type: 'ioasid_alloc.ret', payload: { ret: 0, value: 1, tag: 'vfio.0' } }]);
  });

  it('an input of a run whose run.open the component has not consumed waits for it (the transport hands it out again later)', async () => {
    const log = await openLog();
    const host = new ComponentHost('host-vtd', log, outbox, { clock: () => undefined });
    await expect(host.deliver(alloc('vfio.1', { set: 'vm1', min: 1, max: 10, tag: 'vfio.0' }))).rejects.toMatchObject({ name: 'OutOfOrderError', retryAfterMs: 50 });
    expect(await log.read(runId)).toEqual([]);
    expect(host.stats.deferred).toBe(1);
    const before = await opened(host, log);
    await host.deliver(alloc('vfio.1', { set: 'vm1', min: 1, max: 10, tag: 'vfio.0' }));
    expect((await log.read(runId)).slice(before).map((e) => e.type)).toEqual(['ioasid_alloc', 'ioasid.allocated', 'ioasid_alloc.ret']);
  });

  it('a type the component has no input for reaches the decider, which records that it has no handler (as the embedded engine does)', async () => {
    const log = await openLog();
    const host = new ComponentHost('host-vtd', log, outbox, { clock: () => undefined });
    const before = await opened(host, log);
    await host.deliver({ ...alloc('vfio.1', { anything: true }), type: 'no_such_call' });
    const entries = (await log.read(runId)).slice(before);
    expect(entries.map((e) => `${e.kind} ${e.type}`)).toEqual(['input no_such_call', 'event ignored']);
  });
});
