import { expect } from 'vitest';
import { ScenarioError } from '../../libs/scenario/src/index.js';

// Scenario texts of a chosen size, for limits.unit.test.ts and limits-scale.test.ts.

export const HEAD = `name: big
description: d
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]
vms: [{ id: vm1, mdevs: [{ id: m1, parent: dsa0 }] }]
`;

/** A schema-valid scenario of `steps` steps (a PASID, then quiesce) and `ops` background DMA, all after the last step. */
export function sized(steps: number, ops: number): string {
  const lines = [HEAD, 'steps:', '  - { op: pasid_alloc, vm: vm1, as: p }'];
  for (let i = 1; i < steps; i++) lines.push('  - { op: quiesce }');
  if (ops) {
    lines.push('workload:');
    for (let left = ops; left > 0; left -= 10_000) lines.push(`  - { mdev: m1, pasid: $p, op: dma, va: 0, from: ${steps}, count: ${Math.min(10_000, left)} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** The problems of the ScenarioError `f` throws (fails if it throws none or another error). */
export function problemsOf(f: () => unknown): ScenarioError['problems'] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as ScenarioError).problems;
  }
  throw new Error('expected a ScenarioError');
}
