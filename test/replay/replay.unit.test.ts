import { describe, expect, it } from 'vitest';
import { resolvePolicy, type LogEntry } from '../../libs/contracts/src/index.js';
import { diffRuns, replayEntries, runEmbedded } from '../../libs/engine/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

const SEED = 'scenarios/seed-null-iommu-device.yaml';
const embedded = async (preset: string, seed = 1, sets: Record<string, boolean> = {}) =>
  (await runEmbedded({ runId: 'r', scenario: loadScenario(SEED), policy: resolvePolicy(preset, sets), seed })).entries;

describe('replay', () => {
  it('re-folding a recorded run reproduces every output and state hash', async () => {
    const es = await embedded('v1');
    const r = replayEntries(es);
    expect(r).toMatchObject({ identical: true, entries: es.length, inputs: es.filter((e) => e.kind === 'input').length });
    expect(Object.keys(r.components).sort()).toEqual(['guest-viommu', 'host-vtd', 'mdev-parent', 'orchestrator', 'vfio-type1']);
  });

  it('points at the exact entry when an output was tampered with', async () => {
    const es = await embedded('v2');
    const i = es.findIndex((e) => e.type === 'VFIO_IOMMU_NESTING_OP.ret' && e.kind === 'command');
    const tampered = es.map((e, k) => (k === i ? ({ ...e, payload: { ...(e.payload as object), ret: 0 } } as LogEntry) : e));
    const r = replayEntries(tampered);
    expect(r.identical).toBe(false);
    expect(r.divergence).toMatchObject({ seq: es[i]!.seq, component: 'vfio-type1', what: 'payload' });
  });

  it('notices a missing entry, a state hash that does not match, and an output with no input', async () => {
    const es = await embedded('v2');
    expect(replayEntries(es.slice(0, -1)).divergence?.what).toMatch(/missing entry/);
    const k = es.findIndex((e) => e.kind === 'input' && e.component === 'host-vtd');
    expect(replayEntries(es.map((e, j) => (j === k ? { ...e, stateHash: '0000' } : e))).divergence).toMatchObject({ seq: k + 1, what: 'stateHash' });
    expect(replayEntries([{ ...es[1]!, seq: 1 }]).divergence?.what).toBe('kind');
  });
});

describe('the embedded engine', () => {
  it('the same seed gives the same log', async () => {
    expect(JSON.stringify(await embedded('v2', 7))).toBe(JSON.stringify(await embedded('v2', 7)));
  });

  it('different seeds schedule differently but decide the same outcomes', async () => {
    const logs = await Promise.all([1, 2, 3, 4, 5].map((s) => embedded('v2', s)));
    expect(new Set(logs.map((l) => JSON.stringify(l.map((e) => e.eventId)))).size).toBeGreaterThan(1);
    for (const l of logs) expect(diffRuns(logs[0]!, l).outcomes).toEqual([]);
  });
});

describe('diff', () => {
  it('v1 against v1 with v2\'s NULL check: the first divergence is VFIO meeting the NULL iommu device, then the outcomes differ', async () => {
    const d = diffRuns(await embedded('v1'), await embedded('v1', 1, { 'vfio.iommu_device_null_check': true }));
    expect(d.identical).toBe(false);
    expect(d.first!.b).toMatchObject({ component: 'vfio-type1', type: 'iommu_device.null' });
    expect(d.outcomes.find((o) => o.op === 'bind')).toMatchObject({ a: 'oops', b: 'EINVAL' });
    expect(d.violations.onlyA).toContain('no-host-oops');
    expect(diffRuns(await embedded('v2'), await embedded('v2')).identical).toBe(true);
  });
});
