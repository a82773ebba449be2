import { describe, expect, it } from 'vitest';
import { resolvePolicy, type Envelope, type NewLogEntry } from '../../libs/contracts/src/index.js';
import { MemoryRunLog, type InputAppendResult, type InputGate } from '../../libs/event-log/src/index.js';
import { ComponentHost, type Outbox } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

// Found by the chaos nemesis (a Redis SIGKILLed mid-run): an append that Redis executed and made
// durable, whose reply the service never got. The service is alive; its retry (or the job's
// redelivery) finds the input's marker. Its memory must not stay at the state before that input.

const runId = 'lost-reply';

/** A log whose next data-plane append is done, and then reported as failed (the reply lost). */
class LosesOneReply extends MemoryRunLog {
  lose = false;
  override async appendInput(runId: string, markerId: string, entries: NewLogEntry[], gate: InputGate): Promise<InputAppendResult> {
    const r = await super.appendInput(runId, markerId, entries, gate);
    if (this.lose) {
      this.lose = false;
      throw new Error('Connection is closed.');
    }
    return r;
  }
}

/** What the orchestrator sends every component first: a component takes nothing of a run before it. */
function runOpen(): Envelope {
  const sc = loadScenario('scenarios/seed-null-iommu-device.yaml');
  const policy = resolvePolicy('mainline');
  return {
    runId, id: 'orch.1', type: 'run.open', from: 'orchestrator', to: 'host-vtd', causationId: null, correlationId: runId, lamport: 1, chan: 1,
    payload: { preset: policy.preset, policy: policy.values, topology: { host: sc.host, parents: sc.parents, vms: sc.vms } },
  };
}

const alloc = (n: number): Envelope => ({
  runId, id: `vfio.${n}`, type: 'ioasid_alloc', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: runId, lamport: n, chan: n,
  payload: { set: 'vm1', min: 1, max: 10, tag: `vfio.${n}` },
});

describe('an input recorded whose append reply was lost', () => {
  it('is learnt from the log: the next input on the channel is consumed, decided from the state after it', async () => {
    const log = new LosesOneReply();
    await log.putRunMeta({ runId, scenario: { name: runId }, policy: resolvePolicy('mainline'), seed: 1, engine: 'cluster', startedAt: 0, status: 'running' });
    await log.openRun(runId, 'open');
    const sent: Envelope[] = [];
    const outbox: Outbox = { send: async (e) => void sent.push(e), sendAll: async (es) => void sent.push(...es) };
    const host = new ComponentHost('host-vtd', log, outbox, { clock: () => undefined });
    await host.deliver(runOpen());
    sent.length = 0;

    log.lose = true;
    await expect(host.deliver(alloc(1))).rejects.toThrow(/Connection is closed/);
    // redelivered: the marker is there, the recorded answer goes out again
    await host.deliver(alloc(1));
    await host.deliver(alloc(2));

    const entries = await log.read(runId);
    const ids = entries.map((e) => e.eventId);
    expect(new Set(ids).size, `an event id twice: ${ids.join(' ')}`).toBe(ids.length);
    expect(entries.filter((e) => e.kind === 'input').map((e) => e.eventId)).toEqual(['in:orch.1', 'in:vfio.1', 'in:vfio.2']);
    // two PASIDs, not the first one handed out twice
    expect(sent.map((e) => (e.payload as { value?: number }).value)).toEqual([1, 2]);
  });
});
