import { describe, expect, it } from 'vitest';
import type { VfioState } from '../../libs/domain/src/vfio-type1/state.js';
import { EINVAL, RID, answered, doesNotEmit, emits, emitsInOrder, given, returns, sends, sendsTimes, type Input, type Outcome } from './gwt.js';
import { BIND_PGTBL, NESTING_OP, PASID_ALLOC, VFIO_ATTACH_GROUP, VFIO_SET_IOMMU, gpasidBindData, iommuDeviceOf, runOpen } from './inputs.js';

// Several containers per VM (DOMAIN.md §7.15, issue 10 point 6): QEMU's vfio_connect_container puts a
// group in the first container of the VM that takes it and opens a new one when none does; a v2+
// nesting container takes one group (§7.1), so a VM with two groups holds two containers, each with
// its own domain, and one vfio_mm (it is the mm's, not the container's).

const P = 1; // the first PASID the host hands vm1
const twoGroups = (preset: string, second: Input = VFIO_ATTACH_GROUP('vm1', 'g2', ['mdev2'])): Input[] => [
  runOpen(preset), VFIO_SET_IOMMU('vm1'), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1']), second,
];
const teardown = (vm: string): Input => ({ type: 'step.vm_teardown', from: 'orchestrator', payload: { step: 1, vm } });
const state = (check: (s: VfioState) => void) => (o: Outcome<unknown>) => check(o.state as VfioState);

describe('vfio_connect_container: a group joins the first container that takes it, else a new one', () => {
  it('v2+: the one-group rule refuses the second group (-EINVAL); QEMU opens vm1.c2 of the same type and the group joins it with its own domain', () => {
    given('vfio-type1', runOpen('v2'), VFIO_SET_IOMMU('vm1'), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1']))
      .when(VFIO_ATTACH_GROUP('vm1', 'g2', ['mdev2']))
      .then(
        returns(0),
        emitsInOrder('attach_group.rejected', 'container.set_iommu', 'group.attached', 'vfio_mm.get'),
        emits('attach_group.rejected', { vm: 'vm1', container: 'vm1', group: 'g2', errno: 'EINVAL' }),
        emits('container.set_iommu', { vm: 'vm1', container: 'vm1.c2', type: 'VFIO_TYPE1_NESTING_IOMMU' }),
        emits('group.attached', { vm: 'vm1', container: 'vm1.c2', group: 'g2', where: 'domain_list', domain: 2 }),
        state((s) => {
          expect(s.vms.vm1).toEqual(['vm1', 'vm1.c2']);
          expect(s.containers['vm1.c2']!.domain_list).toEqual([{ domain: 2, did: expect.any(Number), groups: ['g2'] }]);
        }),
      );
  });

  it('v1 (no one-group rule): the second group joins the first container', () => {
    given('vfio-type1', runOpen('v1'), VFIO_SET_IOMMU('vm1'), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1']))
      .when(VFIO_ATTACH_GROUP('vm1', 'g2', ['mdev2']))
      .then(returns(0), doesNotEmit('container.set_iommu'), emits('group.attached', { container: 'vm1', group: 'g2' }), state((s) => expect(s.vms.vm1).toEqual(['vm1'])));
  });

  it('naming a container is VFIO_GROUP_SET_CONTAINER on that one: its -EINVAL is the answer, and no container is opened', () => {
    given('vfio-type1', runOpen('v7'), VFIO_SET_IOMMU('vm1'), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1']))
      .when({ ...VFIO_ATTACH_GROUP('vm1', 'g2', ['mdev2']), payload: { step: 1, vm: 'vm1', group: 'g2', mdevs: ['mdev2'], container: 'vm1' } })
      .then(returns(-EINVAL), emits('attach_group.rejected', { container: 'vm1', group: 'g2' }), doesNotEmit('container.set_iommu'), doesNotEmit('group.attached'));
  });

  it('a v2+ VM mixes an IOMMU-backed and a non-IOMMU mdev: the second sits in its own container\'s external domain, which the bind does not walk', () => {
    const second = answered(VFIO_ATTACH_GROUP('vm1', 'g2', ['mdev2']), { vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev2: null }) });
    given('vfio-type1', ...twoGroups('v7', second), PASID_ALLOC('vm1'))
      .when(NESTING_OP('vm1', BIND_PGTBL, gpasidBindData(P)))
      .then(
        returns(0),
        emits('nesting_op.started', { vm: 'vm1', op: 'BIND_PGTBL', devices: ['mdev1'] }),
        sendsTimes('host-vtd', 'iommu_sva_bind_gpasid', 1),
        state((s) => expect(s.containers['vm1.c2']).toMatchObject({ external_domain: ['g2'], nesting_info: false, vmm: false })),
      );
  });
});

describe('one vfio_mm per VM, shared by its containers', () => {
  it('a PASID allocated through one container is the mm\'s: the bind walks the devices of every container with an IOMMU domain', () => {
    given('vfio-type1', ...twoGroups('v7'), PASID_ALLOC('vm1'))
      .when(NESTING_OP('vm1', BIND_PGTBL, gpasidBindData(P)))
      .then(
        returns(0),
        emits('nesting_op.started', { vm: 'vm1', op: 'BIND_PGTBL', devices: ['mdev1', 'mdev2'] }),
        sends('host-vtd', 'iommu_sva_bind_gpasid', { vm: 'vm1', domain: 1, dev: RID, mdev: 'mdev1' }),
        sends('host-vtd', 'iommu_sva_bind_gpasid', { vm: 'vm1', domain: 2, dev: RID, mdev: 'mdev2' }),
        state((s) => {
          expect(s.mm.vm1).toEqual([P]);
          expect([s.containers.vm1!.vmm, s.containers['vm1.c2']!.vmm]).toEqual([true, true]);
        }),
      );
  });
});

describe('teardown walks every container', () => {
  it('the VM\'s PASIDs are unbound on every device of every container, then each container is released and the vfio_mm goes with the last', () => {
    given('vfio-type1', ...twoGroups('v7'), PASID_ALLOC('vm1'), NESTING_OP('vm1', BIND_PGTBL, gpasidBindData(P)))
      .when(teardown('vm1'))
      .then(
        emits('nesting_op.started', { vm: 'vm1', op: 'UNBIND_PGTBL', devices: ['mdev1', 'mdev2'], for: 'teardown' }),
        sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 2),
        emitsInOrder('pasid.freed', 'container.released', 'container.released'),
        emits('container.released', { vm: 'vm1', container: 'vm1', pins: 0 }),
        emits('container.released', { vm: 'vm1', container: 'vm1.c2', pins: 0 }),
        state((s) => expect([s.vms.vm1, s.mm.vm1, Object.keys(s.containers)]).toEqual([undefined, undefined, []])),
      );
  });
});
