import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../libs/scenario/src/index.js';
import { problemsOf } from './sized.js';

// Issue 10 point 7: setup operations as steps of the scenario. What the loader accepts, and what it
// refuses (exit 2 in the CLI) with the field's path, before anything runs.

const HEAD = `name: t
description: d
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]
`;
/** A scenario with these VMs and steps (YAML lines, indented as list items). */
const scenario = (vms: string, steps: string, workload = '') => `${HEAD}vms:\n${vms}steps:\n${steps}${workload ? `workload:\n${workload}` : ''}`;
const paths = (text: string) => problemsOf(() => parseScenario(text, 'bad.yaml')).map((p) => `${p.path}: ${p.message}`);

const ONE_VM_TWO_GROUPS = `  - id: vm1
    mdevs:
      - { id: m1, parent: dsa0, group: g1 }
      - { id: m2, parent: dsa0, group: g2, attach: manual }
`;

describe('manual setup steps that load', () => {
  it('an attach, a container and an mdev creation done by steps, each with an expect and a note', () => {
    const vms = `${ONE_VM_TWO_GROUPS}  - { id: vm2, set_iommu: manual, mdevs: [{ id: m3, parent: dsa0, create: manual, attach: manual }] }\n`;
    const steps = `  - { op: vfio_attach_group, vm: vm1, group: g2, expect: { v1: ok, default: EINVAL }, note: second group }
  - { op: mdev_create, mdev: m3, expect: ok }
  - { op: vfio_set_iommu, vm: vm2, expect: ok }
  - { op: vfio_attach_group, vm: vm2, group: m3 }
  - { op: dma, mdev: m3, pasid: 1, va: 0 }
`;
    const sc = parseScenario(scenario(vms, steps, '  - { mdev: m3, pasid: 1, op: dma, va: 0, from: 2 }\n'), 'ok.yaml');
    expect(sc.vms[1]).toMatchObject({ set_iommu: 'manual', mdevs: [{ create: 'manual', attach: 'manual' }] });
    expect(sc.steps.map((s) => s.op)).toEqual(['vfio_attach_group', 'mdev_create', 'vfio_set_iommu', 'vfio_attach_group', 'dma']);
  });

  it('a scenario that says nothing of setup loads as before: no manual field appears', () => {
    const sc = parseScenario(scenario('  - { id: vm1, mdevs: [{ id: m1, parent: dsa0 }] }\n', '  - { op: quiesce }\n'), 'ok.yaml');
    expect(Object.keys(sc.vms[0]!)).not.toContain('set_iommu');
    expect(Object.keys(sc.vms[0]!.mdevs[0]!)).toEqual(['id', 'parent']);
  });
});

describe('manual setup steps the loader refuses, with the field', () => {
  it('a step that names an unknown VM, mdev or group', () => {
    const steps = `  - { op: vfio_attach_group, vm: vm9, group: g2 }
  - { op: mdev_create, mdev: m9 }
  - { op: vfio_set_iommu, vm: vm9 }
  - { op: vfio_attach_group, vm: vm1, group: g7 }
  - { op: vfio_attach_group, vm: vm1, group: g2 }
`;
    expect(paths(scenario(ONE_VM_TWO_GROUPS, steps))).toEqual([
      "steps[0].vm: no VM 'vm9' (have: vm1)",
      "steps[1].mdev: no mdev 'm9'",
      "steps[2].vm: no VM 'vm9' (have: vm1)",
      "steps[3].group: no group 'g7' in VM 'vm1' (its groups: g1, g2; an mdev's group is its own id unless it names one)",
    ]);
  });

  it('a step for an operation setup already does', () => {
    const steps = `  - { op: vfio_attach_group, vm: vm1, group: g1 }
  - { op: vfio_set_iommu, vm: vm1 }
  - { op: mdev_create, mdev: m1 }
  - { op: vfio_attach_group, vm: vm1, group: g2 }
`;
    expect(paths(scenario(ONE_VM_TWO_GROUPS, steps))).toEqual([
      "steps[0].group: group 'g1' of VM 'vm1' is attached in setup: say attach: manual on its mdevs (m1) for a step to attach it",
      "steps[1].vm: the container of VM 'vm1' is set in setup: say set_iommu: manual on the VM for a step to set it",
      "steps[2].mdev: mdev 'm1' is created in setup: say create: manual on it for a step to create it",
    ]);
  });

  it('attaching a group twice, creating an mdev twice', () => {
    const vms = `  - { id: vm1, mdevs: [{ id: m1, parent: dsa0, create: manual, attach: manual }] }\n`;
    const steps = `  - { op: mdev_create, mdev: m1 }
  - { op: vfio_attach_group, vm: vm1, group: m1 }
  - { op: vfio_attach_group, vm: vm1, group: m1, expect: EINVAL }
  - { op: mdev_create, mdev: m1 }
`;
    expect(paths(scenario(vms, steps))).toEqual([
      "steps[2].group: group 'm1' of VM 'vm1' is already attached by steps[1]",
      "steps[3].mdev: mdev 'm1' is already created by steps[0]",
    ]);
  });

  it('using an mdev before the step that creates it: a step, its group\'s attach, the workload', () => {
    const vms = `  - { id: vm1, mdevs: [{ id: m1, parent: dsa0, create: manual, attach: manual }] }\n`;
    const steps = `  - { op: dma, mdev: m1, pasid: 1, va: 0 }
  - { op: vfio_attach_group, vm: vm1, group: m1 }
  - { op: mdev_create, mdev: m1 }
`;
    expect(paths(scenario(vms, steps, '  - { mdev: m1, pasid: 1, op: dma, va: 0, from: 2 }\n'))).toEqual([
      "steps[0].mdev: mdev 'm1' is not created yet (create: manual): its mdev_create step must come before",
      "steps[1].group: mdev 'm1' of group 'm1' is not created yet: its mdev_create step must come before the attach",
      'workload[0].from: mdev \'m1\' is created by steps[2]: the workload may start from 3, after it',
    ]);
  });

  it('an mdev created by a step whose group setup would attach before it', () => {
    const vms = `  - { id: vm1, mdevs: [{ id: m1, parent: dsa0, create: manual }] }\n`;
    expect(paths(scenario(vms, '  - { op: mdev_create, mdev: m1 }\n'))).toEqual([
      "vms[0].mdevs[0].create: 'm1' is created by a step, but its group 'm1' attaches in setup, before any step: say attach: manual on the group's mdevs and attach it after",
    ]);
  });

  it('a container set by a step: its groups attach after it, by steps', () => {
    const vms = `  - { id: vm1, set_iommu: manual, mdevs: [{ id: m1, parent: dsa0 }, { id: m2, parent: dsa0, attach: manual }] }\n`;
    const steps = `  - { op: vfio_attach_group, vm: vm1, group: m2 }
  - { op: vfio_set_iommu, vm: vm1 }
`;
    expect(paths(scenario(vms, steps))).toEqual([
      "steps[0].vm: the container of VM 'vm1' has no IOMMU type yet: its vfio_set_iommu step must come before the attach",
      "vms[0].set_iommu: the container is set by a step, but group(s) 'm1' would attach in setup, before it: say attach: manual on their mdevs and attach them after",
    ]);
  });

  it('a manual operation no step does, and mdevs of one group that disagree', () => {
    const vms = `  - id: vm1
    set_iommu: manual
    mdevs:
      - { id: m1, parent: dsa0, group: g, create: manual, attach: manual }
      - { id: m2, parent: dsa0, group: g }
`;
    expect(paths(scenario(vms, '  - { op: quiesce }\n'))).toEqual([
      "vms[0].mdevs[1].attach: group 'g' is attached by a step (another of its mdevs says attach: manual): say it of every mdev of the group, which is attached once",
      "vms[0].mdevs[0].create: create: manual, but no mdev_create step creates 'm1'",
      "vms[0].set_iommu: set_iommu: manual, but no vfio_set_iommu step sets the container of VM 'vm1'",
      "vms[0].mdevs[0].attach: attach: manual, but no vfio_attach_group step attaches group 'g' of VM 'vm1'",
    ]);
  });

  it('a bad mode and an unknown argument', () => {
    expect(paths(scenario('  - { id: vm1, mdevs: [{ id: m1, parent: dsa0, attach: later }] }\n', '  - { op: vfio_set_iommu, vm: vm1, nesting: false }\n'))).toEqual([
      'vms[0].mdevs[0].attach: Invalid option: expected one of "auto"|"manual"',
      'steps[0]: Unrecognized key: "nesting"',
    ]);
  });
});
