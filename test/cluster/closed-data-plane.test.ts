import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COMPONENTS, resolvePolicy, type Component, type Envelope, type LogEntry } from '../../libs/contracts/src/index.js';
import { RunCoordinator } from '../../libs/cluster/src/index.js';
import { ComponentHost, type Outbox } from '../../libs/runtime/src/index.js';
import { replayEntries, runEmbedded } from '../../libs/engine/src/index.js';
import { ORPHAN_RUN_ID, RedisRunLog } from '../../libs/event-log/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { deletePrefix } from '../support/cluster.js';
import { testPrefix } from '../support/redis.js';

let redis: Redis;
let log: RedisRunLog;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  log = new RedisRunLog(redis, { prefix: testPrefix('closed') });
});
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(inject('redisUrl'), log.prefix);
});

/** A well-formed host call (the payload check passes; the run's state is what refuses it). */
const BIND = { vm: 'vm1', domain: 1, dev: '6a:01.0', mdev: 'm1', data: {}, tag: 'vfio.0' };
const noOutbox = { send: async () => {}, sendAll: async () => {} } as unknown as Outbox;
/** An entry as a decision made it: without the wall clock and where it landed. */
const decision = ({ ts: _ts, seq: _seq, ...e }: LogEntry & { ts?: number }) => e;

/** The five components in one process on the test Redis: every command sent is delivered to its receiver's host. */
function inProcessCluster() {
  const hosts = {} as Record<Component, ComponentHost>;
  const outbox = {
    async send(e: Envelope) {
      void hosts[e.to].deliver(e);
    },
    async sendAll(es: Envelope[]) {
      for (const e of es) await outbox.send(e);
    },
  } as unknown as Outbox;
  for (const c of COMPONENTS) hosts[c] = new ComponentHost(c, log, outbox);
  return { hosts, coordinator: new RunCoordinator(hosts.orchestrator, log, outbox) };
}

async function keysOf(runId: string): Promise<string[]> {
  return redis.keys(`${log.prefix}:{${runId}}*`);
}

describe('a closed data plane', () => {
  it('a finished run is closed: a forged host call is dead-lettered with its reason, the log is unchanged and replays identical', async () => {
    const runId = 'closed-seed-v1';
    const scenario = loadScenario('scenarios/seed-null-iommu-device.yaml');
    const { hosts, coordinator } = inProcessCluster();
    const report = await coordinator.start({ runId, scenario, policy: resolvePolicy('v1'), seed: 1, stepTimeoutMs: 5000, reproduce: 'test' });
    expect(report.verdict).toBe('fail'); // the seed bug: the host oopses under v1
    expect(await log.runState(runId)).toBe('closed');
    expect((await log.getRunMeta(runId))?.status).toBe('finished');
    const before = await log.read(runId);
    expect(before.at(-1)!.seq).toBe(before.length);

    // the tester's forged host call: a bind the host really received, under an id no command has
    const bind = before.find((e) => e.kind === 'command' && e.to === 'host-vtd' && e.type === 'iommu_sva_bind_gpasid')!;
    const forged: Envelope = { runId, id: 'vfio.forged-1', type: bind.type, from: bind.component as Component, to: 'host-vtd', causationId: bind.causationId, correlationId: bind.correlationId, lamport: bind.lamport, payload: bind.payload };
    await hosts['host-vtd'].deliver(forged);
    // and a redelivery of a command the host consumed: answered from its marker, nothing appended
    const consumed = before.find((e) => e.kind === 'input' && e.component === 'host-vtd')!;
    await hosts['host-vtd'].deliver(consumed.payload);

    const after = await log.read(runId);
    expect(after).toEqual(before);
    expect(after.some((e) => e.type === 'oops' && e.seq > before.findIndex((x) => x.type === 'run.finished') + 1)).toBe(false);
    const dl = await log.readDeadLetters(runId);
    expect(dl).toHaveLength(1);
    expect(dl[0]!.reason).toMatch(/^host-vtd: run closed-seed-v1 is closed .*iommu_sva_bind_gpasid vfio\.forged-1 from vfio-type1 refused/);
    expect(dl[0]!.raw).toEqual(forged);
    expect(hosts['host-vtd'].stats).toMatchObject({ refused: 1, deadLetters: 1, duplicates: 1 });
    expect(replayEntries(after)).toMatchObject({ identical: true, entries: before.length });
  });

  it('unwinds in flight at run.finished land while the run drains; a forged or altered one does not; after close nothing does', async () => {
    // this scenario's log has an input after run.finished (a page response the device sends back as the run ends)
    const runId = 'closed-prq';
    const scenario = loadScenario('scenarios/prq-no-drain-pasid-reuse.yaml');
    const policy = resolvePolicy('v1');
    const embedded = (await runEmbedded({ runId, scenario, policy, seed: 1 })).entries;
    const finishedAt = embedded.find((e) => e.type === 'run.finished')!.seq;
    const late = embedded.filter((e) => e.kind === 'input' && e.seq > finishedAt);
    expect(late.length).toBeGreaterThan(0);

    // the coordinator's part by hand: meta, the log opened, then the recorded consumption order delivered
    await log.putRunMeta({ runId, scenario: { name: scenario.name }, policy, seed: 1, engine: 'cluster', startedAt: 1, status: 'running' });
    expect(await log.openRun(runId)).toBe('ready');
    const hosts = Object.fromEntries(COMPONENTS.map((c) => [c, new ComponentHost(c, log, noOutbox)])) as Record<Component, ComponentHost>;
    const early = embedded.filter((e) => e.kind === 'input' && e.seq < finishedAt);
    for (const e of early) await hosts[e.component].deliver(e.payload);
    expect(await log.runState(runId)).toBe('draining');

    const first = late[0]!;
    const real = first.payload as Envelope;
    const stranger: Envelope = { ...real, id: 'dev.forged-7' };
    const altered: Envelope = { ...real, payload: { ...(real.payload as object), forged: true } };
    await hosts[first.component].deliver(stranger);
    await hosts[first.component].deliver(altered);
    // a timer that fires after the run finished is no recorded command either
    await hosts.orchestrator.deliver({ runId, id: 'orch.timeout-99', type: 'step.timeout', from: 'orchestrator', to: 'orchestrator', causationId: null, correlationId: `${runId}/step-99`, lamport: 0, payload: { step: 99 } });
    for (const e of late) await hosts[e.component].deliver(e.payload);

    const recorded = await log.read(runId);
    expect(recorded.map(decision)).toEqual(embedded.map(decision));
    const reasons = (await log.readDeadLetters(runId)).map((d) => d.reason);
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toMatch(/run closed-prq finished \(run\.finished is in its log\).*dev\.forged-7 is no command recorded in the run's log/);
    expect(reasons[1]).toMatch(/differs from the command recorded at seq \d+/);
    expect(reasons[2]).toMatch(/step\.timeout orch\.timeout-99 .*is no command recorded/);

    await log.closeRun(runId);
    // the same unwind redelivered (a stalled job): nothing new; a fresh id: refused as closed
    await hosts[first.component].deliver(real);
    await hosts[first.component].deliver({ ...real, id: 'dev.forged-8' });
    expect(await log.read(runId)).toEqual(recorded);
    expect((await log.readDeadLetters(runId)).at(-1)!.reason).toMatch(/is closed/);
    expect(replayEntries(recorded).identical).toBe(true);
  });

  it('an envelope for an unknown run leaves no key of that run: its dead letter is kept under the orphan id', async () => {
    const host = new ComponentHost('host-vtd', log, noOutbox);
    const ghost: Envelope = { runId: 'ghost-run', id: 'vfio.1', type: 'iommu_sva_bind_gpasid', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: 'c', lamport: 3, payload: BIND };
    await host.deliver(ghost);
    expect(await keysOf('ghost-run')).toEqual([]);
    expect(await log.length('ghost-run')).toBe(0);
    expect(await log.getRunMeta('ghost-run')).toBeUndefined();
    const dl = (await log.readDeadLetters(ORPHAN_RUN_ID)).filter((d) => (d.raw as Envelope).runId === 'ghost-run');
    expect(dl.map((d) => d.reason)).toEqual(['host-vtd: run ghost-run is unknown (no run meta): iommu_sva_bind_gpasid vfio.1 from vfio-type1 refused']);
    expect(host.activeRuns).toBe(0);
  });

  it('a run id the key scheme cannot hold is rejected by the envelope schema, with the reason', async () => {
    const host = new ComponentHost('host-vtd', log, noOutbox);
    await host.deliver({ runId: 'a{b}c', id: 'vfio.1', type: 'iommu_sva_bind_gpasid', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: 'c', lamport: 3, payload: BIND });
    const dl = (await log.readDeadLetters(ORPHAN_RUN_ID)).filter((d) => (d.raw as Envelope).runId === 'a{b}c');
    expect(dl).toHaveLength(1);
    expect(dl[0]!.reason).toMatch(/^host-vtd: malformed envelope: runId: a run id must not contain braces or whitespace/);
    expect(await redis.keys(`${log.prefix}:{a{b}c}*`)).toEqual([]);
    expect(await redis.keys(`${log.prefix}:{b}*`)).toEqual([]);
  });

  it('a run not yet started (meta put, log ready) takes nothing but its run.start', async () => {
    const runId = 'closed-ready';
    await log.putRunMeta({ runId, scenario: { name: 's' }, policy: resolvePolicy('v2'), seed: 1, engine: 'cluster', startedAt: 2, status: 'running' });
    await log.openRun(runId);
    const host = new ComponentHost('host-vtd', log, noOutbox);
    await host.deliver({ runId, id: 'vfio.1', type: 'iommu_sva_bind_gpasid', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: 'c', lamport: 3, payload: BIND });
    expect(await log.length(runId)).toBe(0);
    expect((await log.readDeadLetters(runId)).map((d) => d.reason)).toEqual([
      'host-vtd: run closed-ready has not started (the orchestrator has not consumed run.start): iommu_sva_bind_gpasid vfio.1 from vfio-type1 refused',
    ]);
    expect(await log.runState(runId)).toBe('ready');

    // meta put but the log never opened (a coordinator that died in between): refused, and said so
    const half = 'closed-half';
    await log.putRunMeta({ runId: half, scenario: { name: 's' }, policy: resolvePolicy('v2'), seed: 1, engine: 'cluster', startedAt: 3, status: 'running' });
    await host.deliver({ runId: half, id: 'vfio.1', type: 'iommu_sva_bind_gpasid', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: 'c', lamport: 3, payload: BIND });
    expect(await log.length(half)).toBe(0);
    expect((await log.readDeadLetters(half)).map((d) => d.reason)).toEqual([
      'host-vtd: run closed-half is not open (its meta says running, but no coordinator opened its log): iommu_sva_bind_gpasid vfio.1 from vfio-type1 refused',
    ]);
  });
});
