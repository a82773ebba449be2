import { describe, it } from 'vitest';
import { EBUSY, EINVAL, ENODEV, ENOTSUPP, EOPNOTSUPP, RID, answered, doesNotEmit, emits, given, oopses, returns, sends, sendsTimes, type Input } from './gwt.js';
import {
  BIND_PGTBL, NESTING_OP, PASID_ALLOC, UNBIND_PGTBL, VFIO_ATTACH_GROUP, VFIO_SET_IOMMU, gpasidBindData, hostReturnsFor, iommuDeviceOf, oopsesOnNull, runOpen,
} from './inputs.js';

// VFIO_IOMMU_NESTING_OP{BIND_PGTBL} (handle_pgtbl_op, DOMAIN.md §2.2 point 4, §3): walk every device of
// the container's domains, resolve each mdev's IOMMU device, bind on the host, unwind on failure.

const P = 1; // the PASID the host hands vm1 (the lowest free)

/** vm1's nesting container: group g1 of mdev1 and mdev2 on dsa0 (one aux domain), and PASID 1 allocated. */
const container = (preset: string, sets: Record<string, string | boolean> = {}): Input[] => [
  runOpen(preset, sets),
  VFIO_SET_IOMMU('vm1'),
  VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1', 'mdev2']),
  PASID_ALLOC('vm1'),
];
const bind = (over: Record<string, unknown> = {}) => NESTING_OP('vm1', BIND_PGTBL, gpasidBindData(P, over));
const rejected = (errno: string, why: string) => emits('nesting_op.rejected', { vm: 'vm1', errno, why });

describe('BIND_PGTBL: success', () => {
  it('binds the guest page table on every device of the container, each resolved to its IOMMU device', () => {
    given('vfio-type1', ...container('v7'))
      .when(bind())
      .then(
        returns(0),
        emits('nesting_op.started', { vm: 'vm1', op: 'BIND_PGTBL', devices: ['mdev1', 'mdev2'] }),
        sends('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: 'mdev1' }),
        sends('mdev-parent', 'vfio_mdev_get_iommu_device', { mdev: 'mdev2' }),
        sends('host-vtd', 'iommu_sva_bind_gpasid', { vm: 'vm1', domain: 1, dev: RID, mdev: 'mdev1', data: gpasidBindData(P) }),
        sends('host-vtd', 'iommu_sva_bind_gpasid', { vm: 'vm1', domain: 1, dev: RID, mdev: 'mdev2', data: gpasidBindData(P) }),
        emits('nesting_op.finished', { vm: 'vm1', op: 'bind', ret: 0, oops: null }),
        doesNotEmit('bind.unwind'),
      );
  });
});

describe('BIND_PGTBL: the ioctl and the container', () => {
  it('-ENODEV: the VM has no container', () => {
    given('vfio-type1', ...container('v7')).when(NESTING_OP('vm9', BIND_PGTBL, gpasidBindData(P))).then(returns(-ENODEV), emits('nesting_op.rejected', { vm: 'vm9', errno: 'ENODEV', why: 'no container' }));
  });

  it('-EINVAL: argsz below minsz, an unknown op, flags beyond the op bits', () => {
    given('vfio-type1', ...container('v7')).when(NESTING_OP('vm1', BIND_PGTBL, gpasidBindData(P), 4)).then(returns(-EINVAL), rejected('EINVAL', 'argsz < minsz'));
    given('vfio-type1', ...container('v7')).when(NESTING_OP('vm1', 3, gpasidBindData(P))).then(returns(-EINVAL), rejected('EINVAL', 'unknown op or flags beyond the op bits'));
    given('vfio-type1', ...container('v7')).when(NESTING_OP('vm1', 1 << 16, gpasidBindData(P))).then(returns(-EINVAL), rejected('EINVAL', 'unknown op or flags beyond the op bits'), sendsTimes('host-vtd', 'iommu_sva_bind_gpasid', 0));
  });

  it('-EOPNOTSUPP: a type1v2 container has no nesting_info', () => {
    given('vfio-type1', runOpen('v7'), VFIO_SET_IOMMU('vm1', false), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1']))
      .when(bind())
      .then(returns(-EOPNOTSUPP), rejected('EOPNOTSUPP', 'no nesting_info: the container has no IOMMU domain (external_domain only)'));
  });

  it('v3 (DOMAIN.md §7.5, bug #14): the same refusal leaks the kernel-internal -ENOTSUPP (524) from handle_pgtbl_op; v5 answers -EOPNOTSUPP', () => {
    const type1v2 = (preset: string) => [runOpen(preset), VFIO_SET_IOMMU('vm1', false), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1'])];
    given('vfio-type1', ...type1v2('v3')).when(bind()).then(returns(-ENOTSUPP), rejected('ENOTSUPP', 'no nesting_info: the container has no IOMMU domain (external_domain only)'));
    given('vfio-type1', ...type1v2('v3')).when(NESTING_OP('vm1', UNBIND_PGTBL, gpasidBindData(P))).then(returns(-ENOTSUPP));
    given('vfio-type1', ...type1v2('v5')).when(bind()).then(returns(-EOPNOTSUPP));
  });

  it('bug #18: a group of non-IOMMU-backed mdevs went silently to external_domain at attach; BIND fails only now, -EOPNOTSUPP', () => {
    given('vfio-type1', runOpen('v7'), VFIO_SET_IOMMU('vm1'), answered(VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1', 'mdev2']), { vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev1: null, mdev2: null }) }))
      .when(bind())
      .then(returns(-EOPNOTSUPP), rejected('EOPNOTSUPP', 'no nesting_info: the container has no IOMMU domain (external_domain only)'), sendsTimes('mdev-parent', 'vfio_mdev_get_iommu_device', 0));
  });
});

describe('BIND_PGTBL: an mdev whose IOMMU device is NULL (bug #1, the seed)', () => {
  it('v2+: vfio_get_iommu_device() is NULL -> -EINVAL before the IOMMU layer, and the unwind unbinds every device of the group, mdev1 first', () => {
    given('vfio-type1', ...container('v2'))
      .when(bind())
      .where({ vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev2: null }) })
      .then(
        returns(-EINVAL),
        emits('iommu_device.null', { vm: 'vm1', mdev: 'mdev2', op: 'bind', errno: 'EINVAL' }),
        sendsTimes('host-vtd', 'iommu_sva_bind_gpasid', 1),
        emits('bind.unwind', { vm: 'vm1', how: 'every_dev', devices: ['mdev1', 'mdev2'] }),
        sends('host-vtd', 'iommu_sva_unbind_gpasid', { domain: 1, dev: RID, mdev: 'mdev1', pasid: P, unwind: true }),
        // mdev2's IOMMU device is NULL for the unwind too: vfio_dev_unbind_gpasid_fn returns -EINVAL before any call
        emits('iommu_device.null', { mdev: 'mdev2', op: 'unbind' }),
        sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 1),
        emits('nesting_op.finished', { op: 'bind', ret: -EINVAL }),
      );
  });

  it('v1: the NULL reaches iommu_sva_bind_gpasid and the host oopses in intel_svm_bind_gpasid', () => {
    given('vfio-type1', ...container('v1'))
      .when(bind())
      .where({ vfio_mdev_get_iommu_device: iommuDeviceOf({ mdev2: null }), iommu_sva_bind_gpasid: oopsesOnNull('intel_svm_bind_gpasid') })
      .then(
        oopses('intel_svm_bind_gpasid'),
        sends('host-vtd', 'iommu_sva_bind_gpasid', { dev: null, mdev: 'mdev2' }),
        emits('nesting_op.finished', { op: 'bind', oops: 'intel_svm_bind_gpasid' }),
        doesNotEmit('iommu_device.null'),
      );
  });
});

describe('BIND_PGTBL: the host fails on a device (bug #2, DOMAIN.md §7.3)', () => {
  it('v7: a second BIND of a bound PASID fails -EBUSY on mdev1, and the unwind unbinds every device of the group: the live binding is torn down', () => {
    given('vfio-type1', ...container('v7'), bind())
      .when(bind())
      .where({ iommu_sva_bind_gpasid: hostReturnsFor({ mdev1: -EBUSY, mdev2: -EBUSY }) })
      .then(
        returns(-EBUSY),
        sendsTimes('host-vtd', 'iommu_sva_bind_gpasid', 1),
        emits('bind.unwind', { how: 'every_dev', devices: ['mdev1', 'mdev2'] }),
        sends('host-vtd', 'iommu_sva_unbind_gpasid', { mdev: 'mdev1', pasid: P, unwind: true }),
        sends('host-vtd', 'iommu_sva_unbind_gpasid', { mdev: 'mdev2', pasid: P, unwind: true }),
        sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 2),
        emits('nesting_op.finished', { op: 'bind', ret: -EBUSY }),
      );
  });

  it('v2-v8: vfio_dev_unbind_gpasid_fn returns 0 whatever the host says, so the unwind goes on past an unbind error; the bind\'s error is the answer', () => {
    given('vfio-type1', ...container('v3'))
      .when(bind())
      .where({ iommu_sva_bind_gpasid: hostReturnsFor({ mdev2: -EBUSY }), iommu_sva_unbind_gpasid: hostReturnsFor({ mdev1: -EINVAL }) })
      .then(returns(-EBUSY), sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 2), sends('host-vtd', 'iommu_sva_unbind_gpasid', { mdev: 'mdev2', unwind: true }));
  });

  it('mainline (the iommufd successor attaches device by device): only what this call bound is unbound (not awaited)', () => {
    given('vfio-type1', ...container('mainline'))
      .when(bind())
      .where({ iommu_sva_bind_gpasid: hostReturnsFor({ mdev2: -EBUSY }) })
      .then(
        returns(-EBUSY),
        emits('bind.unwind', { how: 'bound_only', devices: ['mdev1'] }),
        sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 1),
        sends('host-vtd', 'iommu_sva_unbind_gpasid', { mdev: 'mdev1', noreply: true, unwind: true }),
      );
  });

  it('mainline: the first device failing leaves nothing to unbind, a live binding included', () => {
    given('vfio-type1', ...container('mainline'))
      .when(bind())
      .where({ iommu_sva_bind_gpasid: hostReturnsFor({ mdev1: -EINVAL }) })
      .then(returns(-EINVAL), sendsTimes('host-vtd', 'iommu_sva_bind_gpasid', 1), emits('bind.unwind', { devices: [] }), sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 0));
  });

  it('v1: the unwind walks every device again with for_each_dev, mdev2 included, whose bind failed', () => {
    given('vfio-type1', ...container('v1'))
      .when(bind())
      .where({ iommu_sva_bind_gpasid: hostReturnsFor({ mdev2: -EBUSY }) })
      .then(
        returns(-EBUSY),
        emits('bind.unwind', { how: 'for_each_dev', devices: ['mdev1', 'mdev2'] }),
        sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 2),
        sends('host-vtd', 'iommu_sva_unbind_gpasid', { mdev: 'mdev2', pasid: P, unwind: true }),
      );
  });

  it('v1: the unwind stops at its first error ("no need to check the return value"), so mdev2 is never unbound', () => {
    given('vfio-type1', ...container('v1'))
      .when(bind())
      .where({ iommu_sva_bind_gpasid: hostReturnsFor({ mdev2: -EBUSY }), iommu_sva_unbind_gpasid: hostReturnsFor({ mdev1: -EINVAL }) })
      .then(returns(-EBUSY), sendsTimes('host-vtd', 'iommu_sva_unbind_gpasid', 1));
  });
});
