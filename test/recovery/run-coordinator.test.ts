import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resolvePolicy, type Envelope, type LogEntry } from '../../libs/contracts/src/index.js';
import { RunCoordinator, type RunRequest } from '../../libs/cluster/src/index.js';
import { buildReport, ComponentHost, type Outbox } from '../../libs/runtime/src/index.js';
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
