import { describe, expect, it } from 'vitest';
import { resolvePolicy, type Envelope, type NewLogEntry } from '../../libs/contracts/src/index.js';
import { MemoryRunLog, type GroupAppendResult, type GroupInput, type InputAppendResult, type InputGate } from '../../libs/event-log/src/index.js';
import { ComponentHost, type Outbox } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

// A service takes several jobs of a partition at once; inputs of one run that arrive while one of it is
// being taken wait, and are then taken as a group: decided in order, appended in one call. The log and
// the commands sent must be what one input at a time gives.

const runId = 'group-commit';
const policy = resolvePolicy('mainline');
const sc = loadScenario('scenarios/seed-null-iommu-device.yaml');

/** A log whose next appendInput waits until `release()`: the deliveries behind it queue up meanwhile. */
class HeldLog extends MemoryRunLog {
  private gate?: Promise<void>;
  private open?: () => void;
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  override async appendInput(r: string, m: string, es: NewLogEntry[], g: InputGate): Promise<InputAppendResult> {
    const gate = this.gate;
    if (gate) await gate;
    return super.appendInput(r, m, es, g);
  }
  override async appendInputs(r: string, inputs: GroupInput[], after: { component: string; seq: number }): Promise<GroupAppendResult> {
    const gate = this.gate;
    if (gate) await gate;
    return super.appendInputs(r, inputs, after);
  }
}

/** Until the host has wound down what it was doing (a delivery's promise settles a little before). */
const settled = () => new Promise((r) => setImmediate(r));

async function openLog(log = new HeldLog()): Promise<HeldLog> {
  await log.putRunMeta({ runId, scenario: { name: runId }, policy, seed: 1, engine: 'cluster', startedAt: 0, status: 'running' });
  await log.openRun(runId, 'open');
  return log;
}

/** An outbox that keeps what it was asked to send, in order. */
function recording(): Outbox & { sent: Envelope[] } {
  const sent: Envelope[] = [];
  return { sent, send: async (e) => void sent.push(e), sendAll: async (es) => void sent.push(...es) };
}

const open: Envelope = {
  runId, id: 'orch.1', type: 'run.open', from: 'orchestrator', to: 'host-vtd', causationId: null, correlationId: runId, lamport: 1, chan: 1,
  payload: { preset: policy.preset, policy: policy.values, topology: { host: sc.host, parents: sc.parents, vms: sc.vms } },
};
const alloc = (n: number): Envelope => ({
  runId, id: `vfio.${n}`, type: 'ioasid_alloc', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: runId, lamport: n, chan: n, payload: { set: 'vm1', min: 1, max: 100, tag: `vfio.${n}` },
});

/** The log and the commands of one host taking `inputs` one at a time. */
async function oneAtATime(inputs: Envelope[]) {
  const log = await openLog();
  const out = recording();
  const host = new ComponentHost('host-vtd', log, out, { clock: () => undefined });
  for (const e of inputs) await host.deliver(e);
  return { entries: await log.read(runId), sent: out.sent };
}

describe('group commit: inputs of a run that waited are taken together', () => {
  it('decides them in order and appends them in one call: the same log and the same commands as one at a time', async () => {
    const log = await openLog();
    const out = recording();
    const host = new ComponentHost('host-vtd', log, out, { clock: () => undefined });
    await host.deliver(open);
    await settled();
    log.hold();
    const first = host.deliver(alloc(1));
    const rest = [2, 3, 4, 5, 6].map((n) => host.deliver(alloc(n)));
    log.release();
    await Promise.all([first, ...rest]);
    expect(host.stats).toMatchObject({ inputs: 7, groups: 1, grouped: 5, groupsDeclined: 0, duplicates: 0 });
    const single = await oneAtATime([open, 1, 2, 3, 4, 5, 6].map((n) => (typeof n === 'number' ? alloc(n) : n)));
    expect(await log.read(runId)).toEqual(single.entries);
    expect(out.sent).toEqual(single.sent);
    // the memory the group left is the log's: the next input lands on it
    await host.deliver(alloc(7));
    expect(host.stats.stale).toBe(0);
    expect((await log.read(runId)).at(-1)!.seq).toBeGreaterThan(single.entries.at(-1)!.seq);
  });

  it('a group holding a redelivered input is declined with nothing written; one at a time, the redelivery is answered from its marker', async () => {
    const log = await openLog();
    const out = recording();
    const host = new ComponentHost('host-vtd', log, out, { clock: () => undefined });
    await host.deliver(open);
    await host.deliver(alloc(1));
    await settled();
    log.hold();
    const second = host.deliver(alloc(2));
    const group = [host.deliver(alloc(1)), host.deliver(alloc(3))];
    log.release();
    await Promise.all([second, ...group]);
    expect(host.stats).toMatchObject({ groups: 0, groupsDeclined: 1, duplicates: 1, inputs: 4 });
    const single = await oneAtATime([open, alloc(1), alloc(2), alloc(3)]);
    expect(await log.read(runId)).toEqual(single.entries);
  });

  it('a group whose append landed but whose reply was lost: redelivered, declined by its markers, answered one at a time from the log', async () => {
    let lose = true;
    const log = await openLog(new (class extends HeldLog {
      override async appendInputs(r: string, inputs: GroupInput[], after: { component: string; seq: number }): Promise<GroupAppendResult> {
        const res = await super.appendInputs(r, inputs, after);
        if (lose && res.appended) throw ((lose = false), new Error('connection lost before the reply'));
        return res;
      }
    })());
    const out = recording();
    const host = new ComponentHost('host-vtd', log, out, { clock: () => undefined });
    await host.deliver(open);
    await settled();
    log.hold();
    const first = host.deliver(alloc(1));
    const group = [2, 3, 4].map((n) => host.deliver(alloc(n)));
    log.release();
    await first;
    for (const d of group) await expect(d).rejects.toThrow(/connection lost/);
    await settled();
    // BullMQ hands the three out again: the first alone finds its marker (and the memory behind the
    // log is dropped); the two that waited behind it are declined as a group and answered one at a time
    log.hold();
    const again = [2, 3, 4].map((n) => host.deliver(alloc(n)));
    log.release();
    await Promise.all(again);
    await host.deliver(alloc(5));
    expect(host.stats).toMatchObject({ groups: 0, groupsDeclined: 1, duplicates: 3, rebuilds: 1 });
    const single = await oneAtATime([open, 1, 2, 3, 4, 5].map((n) => (typeof n === 'number' ? alloc(n) : n)));
    expect(await log.read(runId)).toEqual(single.entries);
  });

  it('a malformed delivery among them is dead-lettered alone, the others land', async () => {
    const log = await openLog();
    const host = new ComponentHost('host-vtd', log, recording(), { clock: () => undefined });
    await host.deliver(open);
    await settled();
    log.hold();
    const first = host.deliver(alloc(1));
    const bad = { ...alloc(2), lamport: 'soon' };
    const group = [host.deliver(bad), host.deliver({ ...alloc(2), id: 'vfio.2b' })];
    log.release();
    await Promise.all([first, ...group]);
    expect(host.stats).toMatchObject({ groups: 0, deadLetters: 1, inputs: 3 });
    expect((await log.readDeadLetters(runId))[0]!.reason).toMatch(/malformed envelope: lamport/);
    expect((await log.read(runId)).filter((e) => e.kind === 'input').map((e) => e.causationId)).toEqual(['orch.1', 'vfio.1', 'vfio.2b']);
  });
});
