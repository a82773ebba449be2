import { describe, expect, it } from 'vitest';
import { choosePolicy } from '../../apps/cli/src/policy-choice.js';
import { checkHistory } from '../../libs/checkers/src/index.js';
import { resolvePolicy, type LogEntry, type ResolvedPolicy } from '../../libs/contracts/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { NotReproducedError, shrinkScenario, type ShrinkResult } from '../../libs/explore/src/shrink/index.js';
import { loadScenario, parseScenario, type Scenario } from '../../libs/scenario/src/index.js';
import { noisyPrq, noisySeedNull } from './noisy.js';

/** The shrunk file as `vsva-sim run` would: parsed from its text, the policy it declares, the seed and bias the result names. */
async function rerun(r: ShrinkResult) {
  const sc = parseScenario(r.yaml, 'shrunk.yaml');
  const choice = choosePolicy(sc, { set: [] });
  const policy = resolvePolicy(choice.preset, Object.fromEntries(choice.set.map((s) => s.split('='))));
  const { entries } = await runEmbedded({ runId: 'rerun', scenario: sc, policy, seed: r.seed, bias: r.bias });
  return { sc, policy, invariants: checkHistory(entries).violations.map((v) => v.invariant) };
}

const V1 = resolvePolicy('v1');
const NO_DRAIN = resolvePolicy('mainline', { 'vtd.drain_prq': 'false' });
/** bug #10 itself: a page request of the PASID still in the PRQ when the PASID is freed */
const prqLeft = (vs: Array<{ invariant: string; message: string }>) => vs.some((v) => v.invariant === 'drain-before-reuse' && /not yet drained from the PRQ/.test(v.message));

describe('shrink: the NULL iommu device under v1 (bug #1)', () => {
  const shrink = (sc: Scenario = noisySeedNull()) => shrinkScenario(sc, { policy: V1, seed: 7, invariant: 'no-host-oops', source: 'noisy seed-null' });

  it('drops the noise: no more steps than the hand-written scenario plus two, one VM, parent and workload-free', async () => {
    const r = await shrink();
    expect(r.before).toEqual({ steps: 11, vms: 2, mdevs: 4, parents: 2, workload: 2 });
    expect(r.after.steps).toBeLessThanOrEqual(loadScenario('scenarios/seed-null-iommu-device.yaml').steps.length + 2);
    expect(r.after).toMatchObject({ vms: 1, parents: 1, workload: 0 });
    expect(r.after).toEqual({ steps: r.scenario.steps.length, vms: r.scenario.vms.length, mdevs: 1, parents: 1, workload: r.scenario.workload.length });
    // the step that loses the device and the bind that meets it stay
    expect(r.scenario.steps.map((s) => s.op)).toEqual(expect.arrayContaining(['mdev_clear_iommu_device', 'bind']));
    expect(r.budgetHit).toBe(false);
    expect(r.violations.map((v) => v.invariant)).toContain('no-host-oops');
  });

  it('writes a file that `vsva-sim run` fails by itself: v1 from its verdicts, the seed/bias it names, no expectations, knobs at their defaults', async () => {
    const r = await shrink();
    const { sc, policy, invariants } = await rerun(r);
    expect(policy.preset).toBe('v1');
    expect(Object.keys(policy.overrides)).toEqual([]);
    expect(invariants).toContain('no-host-oops');
    expect(r.yaml).not.toMatch(/expect:|note:|caching_mode|ram_pages|background|bug:/);
    expect(sc.description).toMatch(/noisy seed-null.*no-host-oops/s);
    // one line per step, as in scenarios/
    expect(r.yaml.split('\n').filter((l) => l.startsWith('  - { op:'))).toHaveLength(r.scenario.steps.length);
  });

  it('is deterministic: the same input twice gives the same file, schedule and runs', async () => {
    const [a, b] = [await shrink(), await shrink()];
    expect(b.yaml).toBe(a.yaml);
    expect([b.seed, b.bias, b.runs]).toEqual([a.seed, a.bias, a.runs]);
  });

  it('shrinking the shrunk file again keeps it: it is a fixpoint', async () => {
    const a = await shrink();
    const b = await shrinkScenario(parseScenario(a.yaml, 'shrunk.yaml'), { policy: V1, seed: a.seed, bias: a.bias, invariant: 'no-host-oops', source: 'noisy seed-null' });
    expect(b.doc.steps).toEqual(a.doc.steps);
    expect(b.after).toEqual(a.after);
  });

  it('stops at maxRuns and says so, with the smallest scenario so far, which still breaks the invariant', async () => {
    const r = await shrinkScenario(noisySeedNull(), { policy: V1, seed: 7, invariant: 'no-host-oops', maxRuns: 4 });
    expect(r.budgetHit).toBe(true);
    expect(r.runs).toBe(5); // the four candidates and the final check
    expect((await rerun(r)).invariants).toContain('no-host-oops');
  });

  it('refuses an input that does not break the invariant under the policy given', async () => {
    await expect(shrinkScenario(noisySeedNull(), { policy: resolvePolicy('v2'), seed: 1, invariant: 'no-host-oops' })).rejects.toThrow(NotReproducedError);
  });
});

describe('shrink: PASID reuse without the PRQ drain (bug #10, mainline + vtd.drain_prq=false)', () => {
  const shrink = (policy: ResolvedPolicy = NO_DRAIN) =>
    shrinkScenario(noisyPrq(), { policy, seed: 3, invariant: 'drain-before-reuse', holds: prqLeft });

  it('keeps a page request that is still queued when its PASID is freed: the request, then the free, in that order', async () => {
    const r = await shrink();
    expect(r.before).toEqual({ steps: 15, vms: 3, mdevs: 5, parents: 2, workload: 1 });
    expect(r.after.steps).toBeLessThanOrEqual(loadScenario('scenarios/prq-no-drain-pasid-reuse.yaml').steps.length + 2);
    expect(r.after).toMatchObject({ parents: 1, workload: 0 });
    const ops = r.scenario.steps.map((s) => s.op);
    expect(ops.indexOf('page_request')).toBeGreaterThanOrEqual(0);
    expect(ops.indexOf('page_request')).toBeLessThan(ops.lastIndexOf('pasid_free') >= 0 ? ops.lastIndexOf('pasid_free') : ops.lastIndexOf('vm_teardown'));
    expect(prqLeft(r.violations)).toBe(true);
  });

  it('declares its policy with the override, so that `vsva-sim run` picks it, and reproduces', async () => {
    const r = await shrink();
    expect(r.scenario.verdicts).toEqual([{ preset: 'mainline', set: { 'vtd.drain_prq': false }, verdict: 'fail' }]);
    const { policy, invariants } = await rerun(r);
    expect(policy.overrides).toEqual({ 'vtd.drain_prq': false });
    expect(invariants).toContain('drain-before-reuse');
  });

  it('is deterministic', async () => {
    const [a, b] = [await shrink(), await shrink()];
    expect(b.yaml).toBe(a.yaml);
    expect([b.seed, b.bias, b.runs]).toEqual([a.seed, a.bias, a.runs]);
  });

  it('under the fix (mainline drains) there is nothing to shrink', async () => {
    await expect(shrink(resolvePolicy('mainline'))).rejects.toThrow(/does not break drain-before-reuse/);
  });
});

describe('shrink: the scheduler', () => {
  /** an order the default order and seed 1 do not give: vfio-type1 takes its run.open before guest-viommu does */
  const vfioFirst = (es: LogEntry[]) => {
    const at = (c: string) => es.findIndex((e) => e.kind === 'input' && e.type === 'run.open' && e.component === c);
    return at('vfio-type1') < at('guest-viommu');
  };
  const oopsVfioFirst = (vs: Array<{ invariant: string }>, es: LogEntry[]) => vs.some((v) => v.invariant === 'no-host-oops') && vfioFirst(es);
  const holdsUnder = async (sc: Scenario, seed: number, bias?: number) => {
    const { entries } = await runEmbedded({ runId: 'x', scenario: sc, policy: V1, seed, bias, hash: false });
    return oopsVfioFirst(checkHistory(entries).violations, entries);
  };

  it('keeps the finding\'s seed when the order matters, and still shrinks the scenario', async () => {
    const sc = noisySeedNull();
    expect(await holdsUnder(sc, 1, 1)).toBe(false);
    expect(await holdsUnder(sc, 1)).toBe(false);
    let seed = 2;
    while (!(await holdsUnder(sc, seed))) seed++;
    const r = await shrinkScenario(sc, { policy: V1, seed, invariant: 'no-host-oops', holds: oopsVfioFirst });
    expect([r.seed, r.bias]).toEqual([seed, undefined]);
    expect(r.after.steps).toBeLessThan(r.before.steps);
    expect(r.scenario.description).toContain(`seed ${seed}`);
    expect(await holdsUnder(parseScenario(r.yaml, 'shrunk.yaml'), r.seed)).toBe(true);
  });

  it('drops the finding\'s seed when the order does not matter: the result runs under seed 1, as `vsva-sim run` does by default', async () => {
    const r = await shrinkScenario(noisySeedNull(), { policy: V1, seed: 9, invariant: 'no-host-oops' });
    expect([r.seed, r.bias]).toEqual([1, undefined]);
  });
});
