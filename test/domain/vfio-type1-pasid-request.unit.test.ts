import { describe, it } from 'vitest';
import { EFAULT, EINVAL, ENOTSUPP, EOPNOTSUPP, emits, given, returns, sends, sendsTimes } from './gwt.js';
import { PASID_ALLOC, VFIO_ATTACH_GROUP, VFIO_SET_IOMMU, runOpen } from './inputs.js';

// VFIO_IOMMU_PASID_REQUEST (vfio_iommu_type1_pasid_request, DOMAIN.md §2.1 as §7.5 corrects it): argsz
// and flags, the range, v7's 31-bit limit, then the container's vfio_mm.

/** vm1's nesting container with an IOMMU-backed group: it has a vfio_mm. */
const nesting = (preset: string) => [runOpen(preset), VFIO_SET_IOMMU('vm1'), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1'])];
/** vm1's plain type1v2 container: no nesting_info, no vfio_mm. */
const type1v2 = (preset: string) => [runOpen(preset), VFIO_SET_IOMMU('vm1', false), VFIO_ATTACH_GROUP('vm1', 'g1', ['mdev1'])];
const rejected = (errno: string, why: string) => emits('pasid_request.rejected', { vm: 'vm1', errno, why });

describe('PASID_REQUEST: no vfio_mm (bug #14, DOMAIN.md §7.5)', () => {
  const noVmm = 'no vfio_mm (not nesting, or no IOMMU domain)';

  it('v2 and v3 leak the kernel-internal -ENOTSUPP (524) from vfio_iommu_type1_pasid_alloc', () => {
    for (const p of ['v2', 'v3']) given('vfio-type1', ...type1v2(p)).when(PASID_ALLOC('vm1')).then(returns(-ENOTSUPP), rejected('ENOTSUPP', noVmm));
  });

  it('v4 to v8 and mainline answer the standard -EOPNOTSUPP (v6/v7 included: the 524 of bug #14 is not here)', () => {
    for (const p of ['v4', 'v6', 'v7', 'v8', 'mainline']) given('vfio-type1', ...type1v2(p)).when(PASID_ALLOC('vm1')).then(returns(-EOPNOTSUPP), rejected('EOPNOTSUPP', noVmm));
  });

  it('v1 turned it into -EFAULT', () => {
    given('vfio-type1', ...type1v2('v1')).when(PASID_ALLOC('vm1')).then(returns(-EFAULT), rejected('EFAULT', noVmm));
  });
});

describe('PASID_REQUEST: v7\'s 31-bit range (DOMAIN.md §7.5)', () => {
  const why = 'range.min or range.max > (1 << VFIO_IOMMU_PASID_BITS)';

  it('v7: a max above 1 << 31 is -EINVAL before ioasid_alloc; 1 << 31 itself passes (the kernel compares with >)', () => {
    given('vfio-type1', ...nesting('v7')).when(PASID_ALLOC('vm1', 1, 2 ** 31 + 1)).then(returns(-EINVAL), rejected('EINVAL', why), sendsTimes('host-vtd', 'ioasid_alloc', 0));
    given('vfio-type1', ...nesting('v7')).when(PASID_ALLOC('vm1', 2 ** 31 + 5, 2 ** 31 + 9)).then(returns(-EINVAL), rejected('EINVAL', why));
    given('vfio-type1', ...nesting('v7')).when(PASID_ALLOC('vm1', 1, 2 ** 31)).then(returns(1), sends('host-vtd', 'ioasid_alloc', { set: 'vm1', min: 1, max: 2 ** 31 }));
  });

  it('v7: the range is checked before the vfio_mm: a container without one still gets -EINVAL', () => {
    given('vfio-type1', ...type1v2('v7')).when(PASID_ALLOC('vm1', 1, 2 ** 32 - 1)).then(returns(-EINVAL), rejected('EINVAL', why));
  });

  it('v6 has no such limit: the range goes to ioasid_alloc as it came', () => {
    given('vfio-type1', ...nesting('v6')).when(PASID_ALLOC('vm1', 1, 2 ** 32 - 1)).then(returns(1), sends('host-vtd', 'ioasid_alloc', { min: 1, max: 2 ** 32 - 1 }));
  });
});
