// Histories exploration under mainline found legitimate that a checker misread (docs/exploration.md).
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../libs/checkers/src/index.js';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { ScenarioSchema } from '../../libs/scenario/src/index.js';

/** A DMA that faults and asks for the page; the PRQ interrupt held or not; a prq_irq step after it or not. */
async function liveness(prqIrq: 'auto' | 'manual', policy = 'mainline') {
  const sc = ScenarioSchema.parse({
    name: 'dma-waits-on-prq', description: 'a faulting DMA waits for its page response',
    host: { prq_irq: prqIrq },
    parents: [{ id: 'dsa0', kind: 'iommu-backed', rid: '6a:01.0' }],
    vms: [{ id: 'vm1', mdevs: [{ id: 'mdev1', parent: 'dsa0' }] }],
    steps: [
      { op: 'pasid_alloc', vm: 'vm1', as: 'p' },
      { op: 'bind', vm: 'vm1', pasid: '$p', gpgd: 0x345000 },
      { op: 'dma', mdev: 'mdev1', pasid: '$p', va: 0x400000 },
    ],
  });
  const run = await runEmbedded({ runId: 'l', scenario: sc, policy: resolvePolicy(policy), seed: 1 });
  const timedOut = run.entries.filter((e) => e.type === 'step.completed' && e.kind === 'event' && (e.payload as { outcome: { timeout?: boolean } }).outcome.timeout);
  return { timedOut: timedOut.length, violations: checkHistory(run.entries).violations.filter((v) => v.invariant === 'liveness') };
}

describe('liveness', () => {
  it('a DMA waiting on a page request the scenario holds in the PRQ (prq_irq manual) is not hung by the kernel', async () => {
    const r = await liveness('manual');
    expect(r.timedOut).toBe(1);
    expect(r.violations).toEqual([]);
  });

  it('the same DMA with the interrupt raised completes', async () => {
    const r = await liveness('auto');
    expect(r.timedOut).toBe(0);
    expect(r.violations).toEqual([]);
  });
});

describe('invalidation-order', () => {
  it('a failed bind\'s unwind tears down each bound device in its own order, even when the host interleaves two devices', async () => {
    const sc = ScenarioSchema.parse({
      name: 'unwind-two-devices', description: 'a bind that fails on its third device unwinds the first two (found by explore under mainline)',
      parents: [{ id: 'dsa1', kind: 'iommu-backed', rid: '6b:01.0' }, { id: 'dsa2', kind: 'iommu-backed', rid: '6c:01.0' }],
      vms: [{ id: 'vm1', mdevs: [{ id: 'mdev1', parent: 'dsa2' }, { id: 'mdev2', parent: 'dsa1' }, { id: 'mdev3', parent: 'dsa2' }] }],
      steps: [{ op: 'pasid_alloc', vm: 'vm1', as: 'p' }, { op: 'ioctl_bind', vm: 'vm1', hpasid: '$p' }],
    });
    const run = await runEmbedded({ runId: 'u', scenario: sc, policy: resolvePolicy('mainline'), seed: 1 });
    const cleared = run.entries.filter((e) => e.type === 'pasid_entry.cleared').map((e) => (e.payload as { dev: string }).dev);
    expect(new Set(cleared).size).toBe(2);
    expect(checkHistory(run.entries).violations.filter((v) => v.invariant === 'invalidation-order')).toEqual([]);
  });
});
