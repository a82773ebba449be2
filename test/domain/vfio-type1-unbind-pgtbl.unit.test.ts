import { describe, it } from 'vitest';
import { EACCES, EINVAL, ENODEV, EOPNOTSUPP, RID, emits, given, oopses, returns, sends, sendsTimes } from './gwt.js';
import { BOUND_PASID, boundVm1, gpasidBindData, hostReturnsFor, iommuDeviceOf, NESTING_OP, oopsesOnNull, runOpen, UNBIND_PGTBL, VFIO_ATTACH_GROUP, VFIO_SET_IOMMU } from './inputs.js';

// VFIO_IOMMU_NESTING_OP{UNBIND_PGTBL} (handle_pgtbl_op, DOMAIN.md §2.3): QEMU saw the guest clear its
// PASID entry; VFIO unbinds the PASID on every device of the container.

const P = BOUND_PASID;
const bound = boundVm1;
const unbind = NESTING_OP('vm1', UNBIND_PGTBL, gpasidBindData(P));

describe('UNBIND_PGTBL: success', () => {
  it('unbinds the PASID on every device of the container, each resolved to its IOMMU device', () => {
    given('vfio-type1', ...bound('v7'))
      .when(unbind)
      .then(
        returns(0),
        emits('nesting_op.started', { vm: 'vm1', op: 'UNBIND_PGTBL', devices: ['mdev1', 'mdev2'] }),
        sends('host-vtd', 'iommu_sva_unbind_gpasid', { vm: 'vm1', domain: 1, dev: RID, mdev: 'mdev1', pasid: P, data: gpasidBindData(P) }),
        sends('host-vtd', 'iommu_sva_unbind_gpasid', { vm: 'vm1', domain: 1, dev: RID, mdev: 'mdev2', pasid: P }),
        emits('nesting_op.finished', { vm: 'vm1', op: 'unbind', ret: 0, oops: null }),
      );
  });
});

describe('UNBIND_PGTBL: errors', () => {
  it('-ENODEV with no container; -EOPNOTSUPP on a type1v2 container', () => {
    given('vfio-type1', ...bound('v7')).when(NESTING_OP('vm9', UNBIND_PGTBL, gpasidBindData(P))).then(returns(-ENODEV), emits('nesting_op.rejected', { vm: 'vm9', errno: 'ENODEV' }));
    given('vfio-type1', runOpen('v7'), VFIO_SET_IOMMU('vm1', false), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1']))
      .when(unbind)
      .then(returns(-EOPNOTSUPP), emits('nesting_op.rejected', { op: 'UNBIND_PGTBL', errno: 'EOPNOTSUPP' }), sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 0));
  });

  it('v3+ (DOMAIN.md §7.3): a NULL IOMMU device makes vfio_dev_unbind_gpasid_fn return -EINVAL, which stops the walk; UNBIND_PGTBL still returns 0', () => {
    given('vfio-type1', ...bound('v7'))
      .when(unbind)
      .where({ vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev1: null }) })
      .then(
        returns(0),
        emits('iommu_device.null', { mdev: 'mdev1', op: 'unbind', errno: 'EINVAL' }),
        sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 0),
        emits('nesting_op.finished', { op: 'unbind', ret: 0 }),
      );
  });

  it('v2-v8 (DOMAIN.md §7.3): the host\'s error is ignored, the walk goes on to every device, and UNBIND_PGTBL returns 0', () => {
    given('vfio-type1', ...bound('v7'))
      .when(unbind)
      .where({ iommu_sva_unbind_gpasid: hostReturnsFor({ mdev1: -EACCES }) })
      .then(returns(0), sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 2), sends('host-vtd', 'iommu_sva_unbind_gpasid', { mdev: 'mdev2' }), emits('nesting_op.finished', { op: 'unbind', ret: 0 }));
  });

  it('v1: vfio_iommu_for_each_dev stops at the host\'s error and UNBIND returns it', () => {
    given('vfio-type1', ...bound('v1'))
      .when(unbind)
      .where({ iommu_sva_unbind_gpasid: hostReturnsFor({ mdev1: -EINVAL }) })
      .then(returns(-EINVAL), sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 1), emits('nesting_op.finished', { op: 'unbind', ret: -EINVAL }));
  });

  it('v1 (bug #1): the NULL reaches iommu_sva_unbind_gpasid and the host oopses in intel_svm_unbind_gpasid', () => {
    given('vfio-type1', ...bound('v1'))
      .when(unbind)
      .where({ vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev2: null }), iommu_sva_unbind_gpasid: oopsesOnNull('intel_svm_unbind_gpasid') })
      .then(oopses('intel_svm_unbind_gpasid'), sends('host-vtd', 'iommu_sva_unbind_gpasid', { dev: null, mdev: 'mdev2' }));
  });
});
