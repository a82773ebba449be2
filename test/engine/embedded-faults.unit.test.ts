import { describe, expect, it } from 'vitest';
import { resolvePolicy, type LogEntry } from '../../libs/contracts/src/index.js';
import { checkHistory } from '../../libs/checkers/src/index.js';
import { replayEntries, runEmbedded, type CrashPoint, type EmbeddedRunOptions, type ForcedFault } from '../../libs/engine/src/index.js';
import { buildReport } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

// The embedded engine's faults fire in the real shell (ComponentHost, the memory log's append-once,
// the fake queue): a duplicate and a crash with its redelivery leave the log as the fault-free run
// wrote it, entry for entry; a hold-back reorders, and the run still completes and is checked.

const FILE = 'scenarios/four-vms-two-parents-background.yaml';
const scenario = loadScenario(FILE);
const policy = resolvePolicy('mainline');
const base: EmbeddedRunOptions = { runId: 'faults', scenario, policy, seed: 3, snapshotEvery: 50 };
const clean = await runEmbedded(base);
/** What the log says of each entry, field by field. */
const fields = (es: LogEntry[]) => es.map((e) => ({ seq: e.seq, eventId: e.eventId, kind: e.kind, type: e.type, component: e.component, payload: e.payload, stateHash: e.stateHash }));
/** A crash at `point` forced every `n` slots, from the 2nd. */
const crashes = (n: number, point: CrashPoint): ForcedFault[] =>
  Array.from({ length: Math.floor(clean.deliveries / n) }, (_, k) => ({ slot: 2 + k * n, kind: 'crash', point }));

describe('faults that leave the log as it was', () => {
  it('the fault-free run is a whole, replayable run of the scenario with background DMA', () => {
    expect(clean.entries.length).toBeGreaterThan(1000);
    expect(clean.entries.some((e) => e.component === 'mdev-parent' && e.kind === 'event' && /dma/i.test(e.type))).toBe(true);
    expect(replayEntries(clean.entries)).toMatchObject({ identical: true });
    expect(clean.faults).toEqual({ duplicate: 0, holdBack: 0, crash: { 'before-append': 0, 'before-send': 0, 'mid-send': 0, 'reply-lost': 0 } });
  });

  it('a job delivered twice: the duplicate finds its marker, the recorded commands are re-sent and the queue drops them', async () => {
    const r = await runEmbedded({ ...base, faults: { duplicate: 0.25 } });
    expect(r.faults.duplicate).toBeGreaterThan(20);
    expect(r.stats.duplicates).toBe(r.faults.duplicate);
    expect(r.stats.dropped).toBeGreaterThan(0);
    expect(r.deliveries).toBe(clean.deliveries);
    expect(fields(r.entries)).toEqual(fields(clean.entries));
    expect(r.entries).toEqual(clean.entries);
  });

  it('a crash before the append: nothing was recorded, the rebuilt component decides again', async () => {
    const r = await runEmbedded({ ...base, faults: { force: crashes(37, 'before-append') } });
    expect(r.faults.crash['before-append']).toBeGreaterThan(10);
    // the redelivery was fresh: no marker had been written
    expect(r.stats.duplicates).toBe(0);
    expect(r.stats.rebuilds).toBeGreaterThan(0);
    expect(r.stats.snapshotsLoaded).toBeGreaterThan(0);
    expect(fields(r.entries)).toEqual(fields(clean.entries));
    expect(r.entries).toEqual(clean.entries);
  });

  it('a crash after the append, before the send: the redelivery finds the marker and sends what was recorded', async () => {
    const r = await runEmbedded({ ...base, faults: { force: crashes(37, 'before-send') } });
    expect(r.faults.crash['before-send']).toBeGreaterThan(10);
    expect(r.stats.duplicates).toBe(r.faults.crash['before-send']);
    // nothing had been sent: nothing to drop
    expect(r.stats.dropped).toBe(0);
    expect(r.stats.snapshotsLoaded).toBeGreaterThan(0);
    expect(fields(r.entries)).toEqual(fields(clean.entries));
    expect(r.entries).toEqual(clean.entries);
  });

  it('a crash after the first send: the re-sent first command is dropped, the rest go out once', async () => {
    const r = await runEmbedded({ ...base, faults: { force: crashes(37, 'mid-send') } });
    expect(r.faults.crash['mid-send']).toBeGreaterThan(10);
    expect(r.stats.duplicates).toBe(r.faults.crash['mid-send']);
    expect(r.stats.dropped).toBeGreaterThan(0);
    expect(fields(r.entries)).toEqual(fields(clean.entries));
    expect(r.entries).toEqual(clean.entries);
  });

  it('an append whose reply is lost, the process alive: the same host gets the job again, learns the input from the log, and sends what was recorded', async () => {
    // before the host learnt it from the log, its memory stayed one input behind: it reused event ids
    // and put its channel's next command off for ever (found by the cluster's nemesis killing Redis)
    const r = await runEmbedded({ ...base, faults: { force: crashes(37, 'reply-lost') } });
    expect(r.faults.crash['reply-lost']).toBeGreaterThan(10);
    expect(r.stats.duplicates).toBe(r.faults.crash['reply-lost']);
    // no process died: nothing was booted again, the hosts rebuilt their run from the log
    expect(r.stats.rebuilds).toBeGreaterThanOrEqual(r.faults.crash['reply-lost']);
    expect(r.entries).toEqual(clean.entries);
  });

  it('all of them drawn from the seed at once, each firing: the same log', async () => {
    const r = await runEmbedded({ ...base, faults: { duplicate: 0.1, crash: 0.1 } });
    expect(r.faults.duplicate).toBeGreaterThan(0);
    for (const point of ['before-append', 'before-send', 'mid-send', 'reply-lost'] as const) expect(r.faults.crash[point], point).toBeGreaterThan(0);
    expect(r.entries).toEqual(clean.entries);
  });
});

describe('a job held back behind later jobs', () => {
  it('fires, changes the interleaving, and the run still completes, replays and is checked for every invariant', async () => {
    const r = await runEmbedded({ ...base, faults: { holdBack: 0.05 } });
    expect(r.faults.holdBack).toBeGreaterThan(10);
    expect(r.entries.map((e) => e.eventId)).not.toEqual(clean.entries.map((e) => e.eventId));
    expect(r.entries.some((e) => e.component === 'orchestrator' && e.type === 'run.finished')).toBe(true);
    // every command recorded was consumed: the run ended quiescent
    const consumed = new Set(r.entries.filter((e) => e.kind === 'input').map((e) => e.causationId));
    expect(r.entries.filter((e) => e.kind === 'command' && !consumed.has(e.eventId))).toEqual([]);
    expect(replayEntries(r.entries)).toMatchObject({ identical: true });
    const report = buildReport({ runId: r.runId, entries: r.entries, scenario: { name: scenario.name }, policy, engine: 'embedded', seed: base.seed, wallMs: 0, reproduce: '' });
    expect(report.checked).toEqual(checkHistory([]).checked);
    expect(report.outcomes.length).toBeGreaterThan(0);
  });

  it('never changes what a guest sees: each channel is consumed in the order it was sent, the held-back job first', async () => {
    // a retried job comes back behind later ones (BullMQ's backoff, a crashed consumer's job after the
    // restarted one took the next): before channel order, run.open held back let a step reach mdev-parent
    // first (ENODEV), an outcome no kernel gives
    const seedFile = loadScenario('scenarios/seed-null-iommu-device.yaml');
    const v2 = resolvePolicy('v2');
    const report = async (seed: number, holdBack?: number) => {
      const r = await runEmbedded({ runId: 'order', scenario: seedFile, policy: v2, seed, faults: holdBack ? { holdBack } : undefined });
      const rep = buildReport({ runId: r.runId, entries: r.entries, scenario: { name: seedFile.name }, policy: v2, engine: 'embedded', seed, wallMs: 0, reproduce: '' });
      return { r, seen: { verdict: rep.verdict, outcomes: rep.outcomes.map((o) => [o.step, o.result]) } };
    };
    let deferred = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const held = await report(seed, 0.3);
      expect(held.r.faults.holdBack, `seed ${seed}`).toBeGreaterThan(0);
      expect(held.seen, `seed ${seed}`).toEqual((await report(seed)).seen);
      deferred += held.r.stats.deferred;
      // every input consumed in channel order: its place is one past the last consumed from its sender
      const last = new Map<string, number>();
      for (const e of held.r.entries.filter((x) => x.kind === 'input')) {
        const env = e.payload as { from: string; to: string; chan?: number };
        if (env.chan === undefined) continue;
        const k = `${env.from}>${env.to}`;
        expect(env.chan, `${k} at seq ${e.seq}`).toBe((last.get(k) ?? 0) + 1);
        last.set(k, env.chan);
      }
    }
    // the hold-backs did put later jobs ahead of earlier ones, and those waited
    expect(deferred).toBeGreaterThan(0);
  });

  it('cannot be combined with a schedule, which fixes the order', async () => {
    const schedule = clean.entries.filter((e) => e.kind === 'input').map((e) => (e.payload as { id: string }).id);
    await expect(runEmbedded({ ...base, schedule, faults: { holdBack: 0.1 } })).rejects.toThrow(/schedule/);
    // a schedule with duplicates and crashes is followed to the same log
    const r = await runEmbedded({ ...base, schedule, faults: { duplicate: 0.2, crash: 0.2 } });
    expect(r.faults.duplicate).toBeGreaterThan(0);
    expect(r.entries).toEqual(clean.entries);
  });
});

describe('fault options', () => {
  it('refuses a probability out of range and a forced crash with no point', async () => {
    await expect(runEmbedded({ ...base, faults: { duplicate: 2 } })).rejects.toThrow(/faults.duplicate must be a probability/);
    await expect(runEmbedded({ ...base, faults: { force: [{ slot: 3, kind: 'crash' } as ForcedFault] } })).rejects.toThrow(/point/);
  });
});
