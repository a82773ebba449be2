import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { embeddedChaosRun, judge, parseFaults, drawRunFaults, type ChaosRunInput } from '../../libs/chaos/src/index.js';
import { replayEntries, runEmbedded } from '../../libs/engine/src/index.js';
import { buildReport } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

const FILE = 'scenarios/four-vms-two-parents-background.yaml';
const scenario = loadScenario(FILE);
const policy = resolvePolicy('mainline');
const input = (seed: number, faults = 'delivery'): ChaosRunInput => ({ file: FILE, scenario, policy, seed, faults: drawRunFaults(parseFaults(faults, 'embedded'), seed), reproduce: 'r' });

describe('an embedded chaos run', () => {
  it('is a function of its seed: the same faults, the same log, the same result', async () => {
    const a = await embeddedChaosRun(input(5));
    const b = await embeddedChaosRun(input(5));
    expect(a.injected.length).toBeGreaterThan(5);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('under every delivery fault loses nothing, doubles nothing, replays identically and ends as its fault-free twin', async () => {
    const r = await embeddedChaosRun(input(9, 'duplicate=0.1,delay=0.1,crash=0.1'));
    expect(new Set(r.injected.map((f) => f.kind))).toEqual(new Set(['duplicate', 'delay', 'crash']));
    expect(r).toMatchObject({ lost: 0, duplicated: 0, replayIdentical: true, differences: [], findings: [], ok: true });
    // the faults stop three quarters in (safety), and the run completes after (liveness)
    expect(r.phases.liveness.completed).toBe(true);
    expect(r.phases.safety.untilSeq).toBeLessThan(r.report.stats.entries);
    // the parameters are in the run's log, and the report shows them
    expect(r.report.chaos).toMatchObject({ faults: 'duplicate=0.1,delay=0.1,crash=0.1' });
  });
});

describe('a device fault', () => {
  it('surprise removal under v8 gives bug #16 (liveness: the invalidation to the absent device never completes), with the fault that did it; mainline passes', async () => {
    const file = 'scenarios/devtlb-pasid-flush-user-range.yaml';
    const sc = loadScenario(file);
    const one = (preset: string) => embeddedChaosRun({ file, scenario: sc, policy: resolvePolicy(preset), seed: 7, faults: drawRunFaults(parseFaults('surprise-removal', 'embedded'), 7), reproduce: 'r' });
    const v8 = await one('v8');
    expect(v8.ok).toBe(false);
    expect(v8.findings).toHaveLength(1);
    expect(v8.findings[0]).toMatchObject({ invariant: 'liveness', policy: 'v8', seed: 7, fault: expect.stringMatching(/^surprise-removal on dsa0 at step \d+$/) });
    expect(v8.findings[0]!.message).toMatch(/iotlb_invalidate\) never completed/);
    // the infrastructure did its part: nothing lost, the replay identical
    expect(v8).toMatchObject({ lost: 0, duplicated: 0, replayIdentical: true, differences: [] });
    const mainline = await one('mainline');
    expect(mainline.devices).toEqual(v8.devices);
    expect(mainline).toMatchObject({ ok: true, findings: [] });
  });
});

describe('the chaos checker', () => {
  it('names an outcome a guest would see differ, and a log that should equal its twin and does not', async () => {
    const sc = loadScenario('scenarios/seed-null-iommu-device.yaml');
    const v2 = resolvePolicy('v2');
    const run = await runEmbedded({ runId: 'j', scenario: sc, policy: v2, seed: 1 });
    const rep = buildReport({ runId: 'j', entries: run.entries, scenario: sc, policy: v2, engine: 'embedded', seed: 1, wallMs: 0, reproduce: '' });
    // the faulted run's bind returned EFAULT where its twin's returned EINVAL
    const bind = rep.outcomes.find((o) => o.op === 'bind')!;
    const got = { ...rep, outcomes: rep.outcomes.map((o) => (o === bind ? { ...o, result: 'EFAULT' } : o)) };
    const r = judge({
      input: { file: 'f', scenario: sc, policy: v2, seed: 1, faults: { rates: {} }, reproduce: 'r' }, engine: 'embedded', entries: run.entries, report: got,
      reference: rep, refEntries: run.entries, pristine: rep, injected: [], devices: [], yaml: () => '', healedAtSeq: 0, replay: replayEntries(run.entries), identicalTo: false,
    });
    expect(r.ok).toBe(false);
    expect(r.differences).toEqual([
      `step ${bind.step} (bind) returned EFAULT, without the faults EINVAL`,
      'the log differs from the run without the infrastructure faults, whose schedule it follows',
    ]);
  });
});
