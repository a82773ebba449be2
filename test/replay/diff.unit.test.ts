import { describe, expect, it } from 'vitest';
import { resolvePolicy, type Envelope, type LogEntry } from '../../libs/contracts/src/index.js';
import { diffRuns, replayEntries, runEmbedded } from '../../libs/engine/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

const SEED = 'scenarios/seed-null-iommu-device.yaml';
const embedded = async (preset: string, seed = 1, runId = `emb-seed-${preset}-s${seed}`, sets: Record<string, string | boolean> = {}) =>
  (await runEmbedded({ runId, scenario: loadScenario(SEED), policy: resolvePolicy(preset, sets), seed })).entries;
/** v1 with v2's NULL check alone: the runs differ in that one behaviour (v2 also opens a container per group) */
const v1Checked = () => embedded('v1', 1, 'emb-seed-v1-checked-s1', { 'vfio.iommu_device_null_check': true });

/**
 * A log shaped like a cluster run's: the decisions of an embedded run (an input and what it caused,
 * appended together) written in another causally valid interleaving, under another run id, with
 * timestamps. Among the decisions that may go next, the one latest in the original log goes first.
 */
function clusterShaped(es: LogEntry[], runId: string): LogEntry[] {
  const decisions: LogEntry[][] = [];
  for (const e of es) {
    if (e.kind === 'input') decisions.push([e]);
    else decisions[decisions.length - 1]!.push(e);
  }
  const sentBy = new Map<string, number>();
  decisions.forEach((d, k) => d.forEach((e) => e.kind === 'command' && sentBy.set(e.eventId, k)));
  const done = new Set<number>();
  const order: number[] = [];
  while (order.length < decisions.length) {
    const enabled = decisions.map((_, k) => k).filter((k) => {
      if (done.has(k)) return false;
      const d = decisions[k]!;
      const sender = sentBy.get((d[0]!.payload as Envelope).id);
      // a component consumes in its own order; a command is consumed after the decision that sent it
      const earlierOfSameComponent = decisions.findIndex((x, j) => !done.has(j) && x[0]!.component === d[0]!.component);
      return earlierOfSameComponent === k && (sender === undefined || done.has(sender));
    });
    const k = enabled[enabled.length - 1]!;
    done.add(k);
    order.push(k);
  }
  const text = JSON.stringify(order.flatMap((k) => decisions[k]!)).split(es[0]!.runId).join(runId);
  return (JSON.parse(text) as LogEntry[]).map((e, i) => ({ ...e, seq: i + 1, ts: 1_700_000_000_000 + i * 3 }));
}

describe('diff compares behaviour by default', () => {
  it('two seeds of one scenario interleave differently and behave the same: identical, and different with strict', async () => {
    const [a, b] = [await embedded('v2', 1), await embedded('v2', 3)];
    expect(a.map((e) => e.eventId)).not.toEqual(b.map((e) => e.eventId));
    const d = diffRuns(a, b);
    expect(d).toMatchObject({ mode: 'behaviour', identical: true, outcomes: [], stateHashes: { compared: true } });
    expect(d.components!.map((c) => c.divergence)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(d.components!.find((c) => c.component === 'vfio-type1')!.inputs.a).toBeGreaterThan(0);
    const s = diffRuns(a, b, { mode: 'strict' });
    expect(s).toMatchObject({ mode: 'strict', identical: false });
  });

  it('a cluster-shaped log of the same run (another interleaving, run id, timestamps) is identical by default', async () => {
    const es = await embedded('v1', 1);
    const cl = clusterShaped(es, 'run-20240611-7f3a');
    // a valid log: it re-folds to the same outputs and states
    expect(replayEntries(cl)).toMatchObject({ identical: true });
    expect(cl.map((e) => e.eventId)).not.toEqual(es.map((e) => e.eventId));
    expect(diffRuns(es, cl)).toMatchObject({ identical: true, stateHashes: { compared: true } });
    expect(diffRuns(cl, await embedded('v1', 5))).toMatchObject({ identical: true });
    expect(diffRuns(es, cl, { mode: 'strict' }).identical).toBe(false);
  });

  it('v1 against v1 with the NULL check: VFIO meeting the NULL iommu device is the first divergence, per component and overall', async () => {
    const [a, b] = [await embedded('v1'), await v1Checked()];
    const d = diffRuns(a, b);
    expect(d.identical).toBe(false);
    // a state holds its policy: hashes of runs under different policies say nothing about behaviour
    expect(d.stateHashes).toMatchObject({ compared: false });
    const vfio = d.components!.find((c) => c.component === 'vfio-type1')!.divergence!;
    expect(vfio.b).toMatchObject({ component: 'vfio-type1', type: 'iommu_device.null' });
    expect(vfio.what).toMatch(/^output/);
    const input = (es: LogEntry[], seq: number) => es[seq - 1]!;
    // the same input (the parent's answer: no iommu device), at the same position of VFIO's consumption order
    expect(input(a, vfio.seq.a!)).toMatchObject({ kind: 'input', component: 'vfio-type1', type: 'vfio_mdev_get_iommu_device.ret' });
    expect(input(b, vfio.seq.b!).eventId).toBe(input(a, vfio.seq.a!).eventId);
    expect(a.filter((e) => e.kind === 'input' && e.component === 'vfio-type1' && e.seq <= vfio.seq.a!).length).toBe(vfio.position);
    expect(d.first).toMatchObject({ component: 'vfio-type1', position: vfio.position, seq: vfio.a!.seq });
    expect(d.outcomes.find((o) => o.op === 'bind')).toMatchObject({ a: 'oops', b: 'EINVAL' });
    expect(d.violations.onlyA).toContain('no-host-oops');
    // the host never sees the NULL device with the check: it diverges later, at an input
    const host = d.components!.find((c) => c.component === 'host-vtd')!.divergence!;
    expect(host.a).toMatchObject({ kind: 'input', type: 'iommu_sva_bind_gpasid' });
    expect(host.a!.seq).toBeGreaterThan(d.first!.seq);
  });
});

describe('diff: v1 against v2 on the seed', () => {
  it('the first divergence is the one-group nesting container (v2, DOMAIN.md §7.1): QEMU opens a second container for mdev2, whose walk still meets the NULL device', async () => {
    const [a, b] = [await embedded('v1'), await embedded('v2')];
    const d = diffRuns(a, b);
    expect(d.first!.b).toMatchObject({ component: 'vfio-type1', type: 'attach_group.rejected', payload: { group: 'mdev2', errno: 'EINVAL' } });
    expect(b.find((e) => e.kind === 'event' && e.type === 'container.set_iommu' && (e.payload as { container: string }).container === 'vm1.c2')).toBeDefined();
    expect(b.some((e) => e.kind === 'event' && e.type === 'iommu_device.null')).toBe(true);
    expect(d.outcomes.find((o) => o.op === 'bind')).toMatchObject({ a: 'oops', b: 'EINVAL' });
  });
});
