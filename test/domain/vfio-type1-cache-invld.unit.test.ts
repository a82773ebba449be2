import { describe, expect, it } from 'vitest';
import { EINVAL, ENODEV, ENOENT, ENOTSUPP, EOPNOTSUPP, RID, answered, emits, given, holds, returns, sends, sendsTimes } from './gwt.js';
import { BOUND_PASID, boundVm1, CACHE_INVLD, hostReturnsFor, iommuDeviceOf, NESTING_OP, pasidInvalidateInfo, runOpen, VFIO_ATTACH_GROUP, VFIO_SET_IOMMU } from './inputs.js';

// VFIO_IOMMU_NESTING_OP{CACHE_INVLD} (vfio_iommu_type1_cache_invalidate, DOMAIN.md §2.4): QEMU trapped
// the guest's PIOTLB invalidation; VFIO passes it to the host for every device of the container.

const P = BOUND_PASID;
const bound = boundVm1;
const invalidate = NESTING_OP('vm1', CACHE_INVLD, pasidInvalidateInfo(P));
const entryNum = (n: number | undefined) => holds((o) => expect(o.reply?.detail?.entry_num, 'the entry_num reported to the caller').toBe(n));

describe('CACHE_INVLD: success', () => {
  it('invalidates on every device of the container, each resolved to its IOMMU device', () => {
    given('vfio-type1', ...bound('v7'))
      .when(invalidate)
      .then(
        returns(0),
        emits('nesting_op.started', { vm: 'vm1', op: 'CACHE_INVLD', devices: ['mdev1', 'mdev2'] }),
        sends('host-vtd', 'iommu_cache_invalidate', { vm: 'vm1', domain: 1, dev: RID, mdev: 'mdev1', info: pasidInvalidateInfo(P) }),
        sends('host-vtd', 'iommu_cache_invalidate', { vm: 'vm1', domain: 1, dev: RID, mdev: 'mdev2', info: pasidInvalidateInfo(P) }),
        emits('nesting_op.finished', { vm: 'vm1', op: 'inval', ret: 0, entry_num: 2 }),
        entryNum(undefined),
      );
  });

  it('mainline (the iommufd successor) reports how many devices were invalidated', () => {
    given('vfio-type1', ...bound('mainline')).when(invalidate).then(returns(0), entryNum(2));
  });

  it('VFIO does not check the PASID: one the VM never allocated goes to the host on every device (ownership is the host\'s check)', () => {
    given('vfio-type1', runOpen('v7'), VFIO_SET_IOMMU('vm1'), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1', 'mdev2']))
      .when(NESTING_OP('vm1', CACHE_INVLD, pasidInvalidateInfo(77)))
      .then(returns(0), sendsTimes('host-vtd', 'iommu_cache_invalidate', 2), sends('host-vtd', 'iommu_cache_invalidate', { info: pasidInvalidateInfo(77) }));
  });
});

describe('CACHE_INVLD: a device fails (bug #3)', () => {
  it('v2-v8: per-device errors are ignored, the walk goes on and the ioctl returns 0', () => {
    given('vfio-type1', ...bound('v7'))
      .when(invalidate)
      .where({ iommu_cache_invalidate: hostReturnsFor({ mdev1: -ENOENT }) })
      .then(returns(0), sendsTimes('host-vtd', 'iommu_cache_invalidate', 2), emits('nesting_op.finished', { op: 'inval', ret: 0, entry_num: 1 }));
  });

  it('v1: stops at the first failing device and returns its error; mdev2 is never invalidated', () => {
    given('vfio-type1', ...bound('v1'))
      .when(invalidate)
      .where({ iommu_cache_invalidate: hostReturnsFor({ mdev1: -ENOENT }) })
      .then(returns(-ENOENT), sendsTimes('host-vtd', 'iommu_cache_invalidate', 1));
  });

  it('mainline: stops at the first failure, returns it, and reports the devices done before it', () => {
    given('vfio-type1', ...bound('mainline'))
      .when(invalidate)
      .where({ iommu_cache_invalidate: hostReturnsFor({ mdev2: -ENOENT }) })
      .then(returns(-ENOENT), entryNum(1), sendsTimes('host-vtd', 'iommu_cache_invalidate', 2));
  });
});

describe('CACHE_INVLD: an mdev whose IOMMU device is NULL', () => {
  it('v2-v8 (DOMAIN.md §7.4): the function returns -EINVAL for the NULL device, which stops the walk there; the ioctl still returns 0', () => {
    given('vfio-type1', ...bound('v7'))
      .when(invalidate)
      .where({ vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev1: null }) })
      .then(returns(0), emits('iommu_device.null', { mdev: 'mdev1', op: 'inval', errno: 'EINVAL' }), sendsTimes('host-vtd', 'iommu_cache_invalidate', 0));
    // a NULL on the second device: the first was invalidated, the walk ends at the second
    given('vfio-type1', ...bound('v7'))
      .when(invalidate)
      .where({ vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev2: null }) })
      .then(returns(0), sends('host-vtd', 'iommu_cache_invalidate', { mdev: 'mdev1' }), sendsTimes('host-vtd', 'iommu_cache_invalidate', 1));
  });

  it('v2-v8: an error of the IOMMU call itself is still ignored and the walk goes on (bug #3)', () => {
    given('vfio-type1', ...bound('v7'))
      .when(invalidate)
      .where({ iommu_cache_invalidate: hostReturnsFor({ mdev1: -ENODEV }) })
      .then(returns(0), sendsTimes('host-vtd', 'iommu_cache_invalidate', 2));
  });

  it('v1: the NULL reaches iommu_cache_invalidate; the host checks it (-ENODEV) and v1 returns that', () => {
    given('vfio-type1', ...bound('v1'))
      .when(invalidate)
      .where({ vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev1: null }), iommu_cache_invalidate: (req) => ({ ret: req.dev === null ? -ENODEV : 0 }) })
      .then(returns(-ENODEV), sends('host-vtd', 'iommu_cache_invalidate', { dev: null, mdev: 'mdev1' }), sendsTimes('host-vtd', 'iommu_cache_invalidate', 1));
  });
});

describe('CACHE_INVLD: the ioctl and the container', () => {
  it('-ENODEV with no container; -EINVAL for argsz below minsz', () => {
    given('vfio-type1', ...bound('v7')).when(NESTING_OP('vm9', CACHE_INVLD, pasidInvalidateInfo(P))).then(returns(-ENODEV), emits('nesting_op.rejected', { vm: 'vm9', errno: 'ENODEV' }));
    given('vfio-type1', ...bound('v7')).when(NESTING_OP('vm1', CACHE_INVLD, pasidInvalidateInfo(P), 7)).then(returns(-EINVAL), emits('nesting_op.rejected', { errno: 'EINVAL', why: 'argsz < minsz' }));
  });

  it('-EOPNOTSUPP for a container whose only group sits in external_domain (bug #18)', () => {
    given('vfio-type1', runOpen('v7'), VFIO_SET_IOMMU('vm1'), answered(VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1']), { vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev1: null }) }))
      .when(invalidate)
      .then(returns(-EOPNOTSUPP), emits('nesting_op.rejected', { op: 'CACHE_INVLD', errno: 'EOPNOTSUPP' }), sendsTimes('host-vtd', 'iommu_cache_invalidate', 0));
  });

  it('v3 (10/14, DOMAIN.md §7.5, bug #14): the same refusal is the kernel-internal -ENOTSUPP (524)', () => {
    given('vfio-type1', runOpen('v3'), VFIO_SET_IOMMU('vm1', false), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1']))
      .when(invalidate)
      .then(returns(-ENOTSUPP), emits('nesting_op.rejected', { op: 'CACHE_INVLD', errno: 'ENOTSUPP' }), sendsTimes('host-vtd', 'iommu_cache_invalidate', 0));
  });
});
