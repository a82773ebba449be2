import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resolvePolicy, type Envelope, type LogEntry } from '../../libs/contracts/src/index.js';
import { RunCoordinator, type RunRequest } from '../../libs/cluster/src/index.js';
import { buildReport, commandsOf, ComponentHost, type Outbox } from '../../libs/runtime/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { checkDelivery } from '../../libs/chaos/src/index.js';
import { RedisRunLog } from '../../libs/event-log/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { deletePrefix } from '../support/cluster.js';
import { testPrefix } from '../support/redis.js';
import { embeddedLoop, LOOP_SCENARIO, writeRun } from './long-log.js';

let redis: Redis;
let log: RedisRunLog;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  log = new RedisRunLog(redis, { prefix: testPrefix('coord') });
});
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(inject('redisUrl'), log.prefix);
});

/**
 * An orchestrator as its successor finds it after a crash: a coordinator and a host with no memory,
 * the run's log as the dead one left it. Envelopes to the orchestrator itself (its step timeouts) are
 * delivered to the host; everything sent is recorded.
 */
function restartedOrchestrator() {
  const sent: Envelope[] = [];
  const outbox = {
    async send(e: Envelope) {
      sent.push(e);
      if (e.to === 'orchestrator') void host.deliver(e);
    },
    async sendAll(es: Envelope[]) {
      for (const e of es) await outbox.send(e);
    },
  } as unknown as Outbox;
  const host = new ComponentHost('orchestrator', log, outbox);
  return { sent, coordinator: new RunCoordinator(host, log, outbox) };
}

function request(runId: string, stepTimeoutMs?: number): RunRequest {
  return { runId, scenario: loadScenario(LOOP_SCENARIO), file: LOOP_SCENARIO, policy: resolvePolicy('v2'), seed: 1, stepTimeoutMs, reproduce: 'test' };
}

const outcomesOf = (entries: LogEntry[]) =>
  buildReport({ runId: 'x', entries, scenario: { name: 'x' }, policy: resolvePolicy('v2'), engine: 'cluster', seed: 1, wallMs: 0, reproduce: '' }).outcomes;

describe('the run.start request redelivered to a restarted orchestrator', () => {
  it('when the run already finished: answers with the report from the log at once, starting nothing and timing nothing out', async () => {
    const runId = 'coord-finished';
    const entries = await embeddedLoop(runId, 1);
    await writeRun(log, runId, entries);
    const { sent, coordinator } = restartedOrchestrator();
    const report = await coordinator.start(request(runId, 50));
    expect(sent).toEqual([]);
    expect(report.outcomes).toEqual(outcomesOf(entries));
    expect(await log.length(runId)).toBe(entries.length);
    expect((await log.getRunMeta(runId))?.status).toBe('finished');
  });

  it('mid-run: re-arms the timer of the step in flight only, and a timeout it records ends the run', async () => {
    const runId = 'coord-in-flight';
    const entries = await embeddedLoop(runId, 1);
    // the log as it stood right after the orchestrator started step 10: its completion never came
    const started = entries.find((e) => e.component === 'orchestrator' && e.type === 'step.started' && (e.payload as { step: number }).step === 10)!;
    const cut = entries.findIndex((e, i) => i > entries.indexOf(started) && e.kind === 'input');
    await writeRun(log, runId, entries.slice(0, cut));
    const { sent, coordinator } = restartedOrchestrator();
    const report = await coordinator.start(request(runId, 50));
    expect(sent.map((e) => `${e.type}/${e.id}`)).toEqual(['step.timeout/orch.timeout-10']);
    expect(report.outcomes.map((o) => o.step)).toEqual([...Array(11).keys()]);
    expect(report.outcomes.at(-1)).toMatchObject({ step: 10, result: 'timeout' });
    const recorded = await log.read(runId);
    expect(recorded.filter((e) => e.type === 'run.start')).toHaveLength(1);
    expect(recorded.filter((e) => e.kind === 'input' && e.type === 'step.timeout')).toHaveLength(1);
  });
});

describe('a finished run whose last command is still on its way', () => {
  it('is closed only once that command is consumed: a receiver back after 4 s (paused, restarting) still lands (the chaos soak lost such commands to a 3 s bound)', async () => {
    // prq-pdp-no-response: mdev-parent takes the hardware's page_group_response after run.finished
    const runId = 'coord-settle';
    const file = 'scenarios/prq-pdp-no-response.yaml';
    const scenario = loadScenario(file);
    const policy = resolvePolicy('mainline');
    const whole = (await runEmbedded({ runId, scenario, policy, seed: 1, hash: false })).entries;
    const finished = whole.find((e) => e.type === 'run.finished')!;
    const late = whole.filter((e) => e.seq > finished.seq);
    expect(late[0]).toMatchObject({ kind: 'input', component: 'mdev-parent', type: 'page_group_response' });
    await writeRun(log, runId, whole.filter((e) => e.seq <= finished.seq));

    const { coordinator } = restartedOrchestrator();
    const req: RunRequest = { runId, scenario, file, policy, seed: 1, stepTimeoutMs: 10_000, reproduce: 'test' };
    const reporting = coordinator.start(req);
    // the receiver comes back 4 s later and takes the command recorded for it
    await new Promise((r) => setTimeout(r, 4000));
    const cmd = whole.find((e) => e.kind === 'command' && e.eventId === late[0]!.causationId)!;
    const mdev = new ComponentHost('mdev-parent', log, { send: async () => {}, sendAll: async () => {} } as unknown as Outbox);
    await mdev.deliver(commandsOf([cmd])[0]);
    const report = await reporting;
    const entries = await log.read(runId);
    expect(entries.length).toBe(whole.length);
    expect(report.stats.entries).toBe(whole.length);
    expect(checkDelivery(entries)).toMatchObject({ lost: 0, duplicated: 0 });
    expect(await log.readDeadLetters(runId)).toEqual([]);
  }, 30_000);
});
