import { describe, expect, it } from 'vitest';
import { withoutMdevs, withoutSteps } from '../../libs/explore/src/shrink/remove.js';
import type { ScenarioDoc } from '../../libs/scenario/src/index.js';

const doc = (): ScenarioDoc => ({
  name: 'd', description: 'd',
  parents: [{ id: 'dsa0', kind: 'iommu-backed', rid: '6a:01.0' }],
  vms: [{ id: 'vm1', mdevs: [{ id: 'm1', parent: 'dsa0' }, { id: 'm2', parent: 'dsa0', group: 'g' }, { id: 'm3', parent: 'dsa0', group: 'g' }] }],
  steps: [
    { op: 'pasid_alloc', vm: 'vm1', as: 'p' },
    { op: 'pasid_alloc', vm: 'vm1', as: 'q' },
    { op: 'bind', vm: 'vm1', pasid: '$p', gpgd: 4096 },
    { op: 'dma', mdev: 'm2', pasid: '$q', va: 0 },
    { op: 'quiesce' },
  ],
  workload: [{ mdev: 'm1', pasid: '$p', op: 'dma', va: 0, from: 3 }, { mdev: 'm3', pasid: 5, op: 'dma', va: 0, from: 4 }],
});

describe('shrink: a candidate removes what depends on what it removes', () => {
  it('a step goes with the steps and workload that read its variable; a workload keeps its place among the steps left', () => {
    const d = withoutSteps(doc(), new Set([0]));
    expect(d.steps.map((s) => s.op)).toEqual(['pasid_alloc', 'dma', 'quiesce']);
    // the $p workload is gone; the other started before step 4 (quiesce), now step 2
    expect(d.workload).toEqual([{ mdev: 'm3', pasid: 5, op: 'dma', va: 0, from: 2 }]);
  });

  it('an mdev goes with the steps and workload that name it; a VM with its last mdev', () => {
    const d = withoutMdevs(doc(), new Set(['m2']));
    expect(d.vms[0]!.mdevs.map((m) => m.id)).toEqual(['m1', 'm3']);
    expect(d.steps.map((s) => s.op)).toEqual(['pasid_alloc', 'pasid_alloc', 'bind', 'quiesce']);
    expect(withoutMdevs(doc(), new Set(['m1', 'm2', 'm3'])).vms).toEqual([]);
  });
});
