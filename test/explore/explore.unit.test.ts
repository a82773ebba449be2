import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../libs/checkers/src/index.js';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { explore, ExploreStore, inlinePool, newState, shrinkScenario, signatureOf, type ExploreState, type Finding } from '../../libs/explore/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

/** Explores under a bug's buggy policy until its invariant shows (bounded by runs, never by time). */
async function find(preset: string, set: Record<string, string>, invariant: string, runs = 3000, seed = 1): Promise<Finding | undefined> {
  const st = newState(seed, { preset, set }, 'guided');
  let hit: Finding | undefined;
  await explore(st, { pool: inlinePool(), budget: { runs }, stopWhen: (f) => (f.invariant === invariant ? ((hit = f), true) : false) });
  return hit;
}

const keys = (st: ExploreState) => [...st.findings.values()].map((f) => `${f.index} ${f.key}`);

// bounded by runs, never by time: a loaded machine only makes them slower
describe('explore', { timeout: 600_000 }, () => {
  it('finds the seed review\'s NULL device under v1 and shrinks it to a scenario no longer than the hand-written one plus two', async () => {
    const f = await find('v1', {}, 'no-host-oops');
    expect(f).toBeDefined();
    const policy = resolvePolicy('v1');
    const holds = (vs: ReturnType<typeof checkHistory>['violations'], entries: Parameters<typeof signatureOf>[1]) => vs.some((v) => v.invariant === f!.invariant && signatureOf(v, entries) === f!.signature);
    const r = await shrinkScenario(f!.scenario, { policy, seed: f!.seed, bias: f!.bias, invariant: 'no-host-oops', holds });
    const handWritten = loadScenario('scenarios/seed-null-iommu-device.yaml');
    expect(r.after.steps).toBeLessThanOrEqual(handWritten.steps.length + 2);
    // the shrunk scenario, run as `vsva-sim run` runs it (its seed, its bias if it needs one), breaks the same invariant
    const again = await runEmbedded({ runId: 'again', scenario: r.scenario, policy, seed: r.seed, ...(r.bias === undefined ? {} : { bias: r.bias }) });
    expect(checkHistory(again.entries).violations.map((v) => v.invariant)).toContain('no-host-oops');
  });

  // each under the buggy policy of its bug-table entry (the corpus scenario's `bug:`), no scenario given
  it.each([
    ['#12 cross-VM PASID misuse', 'cross-vm-pasid-bind.yaml'],
    ['#13 PASID space starvation', 'pasid-space-starvation.yaml'],
    ['#14 -ENOTSUPP leaked to userspace', 'enotsupp-leak-nesting-op.yaml'],
    ['#17 vendor driver keeps pins after DMA_UNMAP', 'vendor-no-unpin-on-dma-unmap.yaml'],
    ['#8 no response to a PDP request', 'prq-pdp-no-response.yaml'],
  ])('finds %s by its invariant under the buggy policy', async (_, file) => {
    const bug = loadScenario(`scenarios/${file}`).bug!;
    const f = await find(bug.buggy, (bug.buggySet ?? {}) as Record<string, string>, bug.invariant);
    expect(f?.invariant).toBe(bug.invariant);
  });

  it('the same seed gives the same findings, and a saved exploration continued gives what one long exploration gives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsva-explore-'));
    try {
      const policy = { preset: 'v1', set: {} };
      const one = newState(7, policy, 'guided');
      await explore(one, { pool: inlinePool(), budget: { runs: 160 } });
      const two = newState(7, policy, 'guided');
      await explore(two, { pool: inlinePool(), budget: { runs: 160 } });
      expect(keys(two)).toEqual(keys(one));
      expect(keys(one).length).toBeGreaterThan(2);

      const store = new ExploreStore(dir);
      const first = newState(7, policy, 'guided');
      await explore(first, { pool: inlinePool(), budget: { runs: 80 }, onCorpus: (sc, i) => store.addCorpus(sc, i), onFinding: (f) => void store.writeFinding(f), onBatch: (s) => store.save(s) });
      const resumed = store.load()!;
      expect(resumed.next).toBe(80);
      await explore(resumed, { pool: inlinePool(), budget: { runs: 80 } });
      expect(keys(resumed)).toEqual(keys(one));
      expect([...resumed.coverage].sort()).toEqual([...one.coverage].sort());
      expect(resumed.corpus.length).toBe(one.corpus.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uniform generation is the peer: same loop, no corpus mutation', async () => {
    const st = newState(1, { preset: 'v1', set: {} }, 'uniform');
    await explore(st, { pool: inlinePool(), budget: { runs: 64 } });
    expect(st.next).toBe(64);
    expect(st.coverage.size).toBeGreaterThan(50);
  });
});
