import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planRun } from '../../libs/domain/src/index.js';
import { loadScenario, parseScenario, plannedStepCount, type Scenario } from '../../libs/scenario/src/index.js';

// Issue 10 point 7: a scenario may do a setup operation (mdev_create, vfio_set_iommu,
// vfio_attach_group) in its own steps, where the topology marks it `manual`; the planner leaves that
// operation out of the setup and plans the step in place. Without `manual`, setup is as it was.

const files = ['scenarios', 'test/fixtures/scenarios'].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => join(d, f)));
/** the corpus files that do a setup operation in a step: the rest must plan as before */
const MANUAL = ['scenarios/nesting-container-one-group.yaml'];
const usesManual = (sc: Scenario) => sc.vms.some((vm) => vm.set_iommu === 'manual' || vm.mdevs.some((m) => m.create === 'manual' || m.attach === 'manual'));

describe('the setup the planner plays', () => {
  it('is unchanged for every scenario that marks nothing manual: every mdev created, then each VM\'s container set and its groups attached, then the steps in order', () => {
    const all = files.map((f) => ({ f, sc: loadScenario(f) }));
    expect(all.filter((x) => usesManual(x.sc)).map((x) => x.f)).toEqual(MANUAL);
    const plain = all.filter((x) => !usesManual(x.sc));
    expect(plain.length).toBeGreaterThan(15);
    // the rule the planner followed before setup steps existed (plans, and so run logs, stay as they were)
    const setupBefore = (sc: Scenario) => [
      ...sc.vms.flatMap((vm) => vm.mdevs.map((m) => `mdev_create ${m.id}`)),
      ...sc.vms.flatMap((vm) => [`vfio_set_iommu ${vm.id}`, ...[...new Set(vm.mdevs.map((m) => m.group ?? m.id))].map((g) => `vfio_attach_group ${vm.id} ${g}`)]),
    ];
    const label = (p: { op: string; args: Record<string, unknown> }) => [p.op, p.op === 'mdev_create' ? p.args.mdev : p.args.vm, p.args.group].filter((x) => x !== undefined).join(' ');
    for (const { f, sc } of plain) {
      const plan = planRun(sc);
      expect(plan.filter((p) => p.phase === 'setup').map(label), f).toEqual(setupBefore(sc));
      expect(plan.filter((p) => p.phase === 'scenario').map((p) => p.op), f).toEqual(sc.steps.map((st) => st.op));
      expect(plan.length, f).toBe(plannedStepCount(sc));
    }
  });

  const text = `
name: manual
description: d
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]
vms:
  - id: vm1
    mdevs:
      - { id: m1, parent: dsa0, group: g1 }
      - { id: m2, parent: dsa0, group: g2, attach: manual }
  - id: vm2
    nesting: false
    set_iommu: manual
    mdevs:
      - { id: m3, parent: dsa0, create: manual, attach: manual }
steps:
  - { op: pasid_alloc, vm: vm1, as: p }
  - { op: vfio_attach_group, vm: vm1, group: g2, expect: EINVAL }
  - { op: mdev_create, mdev: m3 }
  - { op: vfio_set_iommu, vm: vm2, note: type1v2 }
  - { op: vfio_attach_group, vm: vm2, group: m3, expect: { v1: ok, default: EBUSY } }
`;

  it('leaves a manual operation out of the setup and plans the scenario\'s step in place, with its arguments from the topology', () => {
    const plan = planRun(parseScenario(text, 'manual.yaml'));
    expect(plan.filter((s) => s.phase === 'setup').map((s) => [s.op, s.args])).toEqual([
      ['mdev_create', { mdev: 'm1', parent: 'dsa0', vm: 'vm1' }],
      ['mdev_create', { mdev: 'm2', parent: 'dsa0', vm: 'vm1' }],
      ['vfio_set_iommu', { vm: 'vm1', nesting: true }],
      ['vfio_attach_group', { vm: 'vm1', group: 'g1', mdevs: ['m1'] }],
    ]);
    expect(plan.filter((s) => s.phase === 'scenario').map((s) => ({ i: s.scenarioIndex, op: s.op, target: s.target, args: s.args, expect: s.expect }))).toEqual([
      { i: 0, op: 'pasid_alloc', target: 'guest-viommu', args: { vm: 'vm1', count: 1 }, expect: undefined },
      { i: 1, op: 'vfio_attach_group', target: 'vfio-type1', args: { vm: 'vm1', group: 'g2', mdevs: ['m2'] }, expect: 'EINVAL' },
      { i: 2, op: 'mdev_create', target: 'mdev-parent', args: { mdev: 'm3', parent: 'dsa0', vm: 'vm2' }, expect: undefined },
      { i: 3, op: 'vfio_set_iommu', target: 'vfio-type1', args: { vm: 'vm2', nesting: false }, expect: undefined },
      { i: 4, op: 'vfio_attach_group', target: 'vfio-type1', args: { vm: 'vm2', group: 'm3', mdevs: ['m3'] }, expect: { v1: 'ok', default: 'EBUSY' } },
    ]);
  });

  it('is counted as the planner makes it, for the planned-step limit', () => {
    const sc = parseScenario(text, 'manual.yaml');
    expect(plannedStepCount(sc)).toBe(planRun(sc).length);
    expect(plannedStepCount(sc)).toBe(4 + 5);
  });
});
