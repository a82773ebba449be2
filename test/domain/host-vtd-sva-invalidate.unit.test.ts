import { describe, it } from 'vitest';
import type { Topology } from '../../libs/domain/src/index.js';
import { EINVAL, ENODEV, ERANGE, RID, doesNotEmit, emits, emitsInOrder, given, returns, sendsTimes, type Input } from './gwt.js';
import {
  DSA0, TOPOLOGY, addrInvalidateInfo, ats_translate, gpasidBindData, guest_writes_pte, ioasid_alloc, iommu_aux_attach_device, iommu_cache_invalidate,
  iommu_domain_alloc, iommu_sva_bind_gpasid, pasidInvalidateInfo, runOpen,
} from './inputs.js';

// intel_iommu_sva_invalidate (DOMAIN.md §2.4): the core's checks of iommu_cache_invalidate_info,
// the driver's checks, then the type x granularity map: PIOTLB flush, and with ATS the devTLB.

const P = 3; // vm1's PASID, bound on dsa0 through vm1's aux domain 1 (DID 2)
const Q = 4; // vm2's PASID
const GPGD = 0x345000;
const [IOTLB, DEV_IOTLB, PASID_CACHE] = [1, 2, 4];
const DOMAIN = 0; // IOMMU_INV_GRANU_DOMAIN

/** PASID 3 bound, and the device's translations of VA pages 5 and 6 cached in the IOTLB (DID 2, PASID 3). */
const cached = (preset: string, sets: Record<string, string | boolean> = {}, topology: Topology = TOPOLOGY): Input[] => [
  runOpen(preset, sets, topology),
  iommu_domain_alloc('vm1'),
  iommu_aux_attach_device('vm1', 1, 'mdev1'),
  ioasid_alloc('vm1', P),
  ioasid_alloc('vm2', Q),
  iommu_sva_bind_gpasid({ data: gpasidBindData(P, { gpgd: GPGD }) }),
  guest_writes_pte('vm1', GPGD, 0x5000, 0x7000),
  guest_writes_pte('vm1', GPGD, 0x6000, 0x8000),
  ats_translate(P, 0x5000),
  ats_translate(P, 0x6000),
];
const invalidate = (info: Record<string, unknown>, over: Partial<Parameters<typeof iommu_cache_invalidate>[0]> = {}) => iommu_cache_invalidate({ ...over, info });
const rejected = (errno: string, why: string, kind = 'refused') => emits('sva_invalidate.rejected', { errno, why, kind });

describe('intel_iommu_sva_invalidate: IOTLB', () => {
  it('PASID granularity: flushes every cached page of the PASID (NONG_PASID), then, with ATS, the devTLB, then waits', () => {
    given('host-vtd', ...cached('mainline'))
      .when(invalidate(pasidInvalidateInfo(P, IOTLB)))
      .then(
        returns(0),
        emitsInOrder('qi.piotlb', 'qi.devtlb', 'qi.wait', 'sva_invalidate.done'),
        emits('qi.piotlb', { did: 2, pasid: P, granu: 'NONG_PASID', pages: [5, 6], processed: 2, why: 'CACHE_INVLD PASID' }),
        emits('qi.devtlb', { sid: RID, pasid: P, addr: 0, npages: -1, size: 'S=1 (all)' }),
        emits('sva_invalidate.done', { dev: RID, pasid: P, ret: 0 }),
        sendsTimes('mdev-parent', 'devtlb_invalidate', 1),
      );
  });

  it('bug #9: before "Fix devTLB flush for vSVA" (v6; v7\'s v5.9-rc2 has the fix, DOMAIN.md §7.1) the PASID-granular devTLB flush covers one page at 0, not the whole range', () => {
    given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(P, IOTLB))).then(returns(0), emits('qi.devtlb', { sid: RID, pasid: P, addr: 0, npages: -1 }));
    given('host-vtd', ...cached('v6'))
      .when(invalidate(pasidInvalidateInfo(P, IOTLB)))
      .then(returns(0), emits('qi.devtlb', { sid: RID, pasid: P, addr: 0, npages: 1 }));
  });

  it('ADDR granularity: flushes only the pages in range (PSI_PASID) and the same range of the devTLB', () => {
    given('host-vtd', ...cached('mainline'))
      .when(invalidate(addrInvalidateInfo(P, 0x5000, 1)))
      .then(
        returns(0),
        emits('qi.piotlb', { did: 2, pasid: P, granu: 'PSI_PASID', addr: 0x5000, npages: 1, pages: [5], processed: 1 }),
        emits('qi.devtlb', { sid: RID, pasid: P, addr: 0x5000, npages: 1 }),
      );
  });

  it('the size order is to_vtd_size()\'s, in u64: no range is refused, a product past 2^64 wraps, under two pages is one page (explore under mainline)', () => {
    const sized = (granule_size: number, nb_granules: number, addr = 0) => {
      const info = addrInvalidateInfo(P, addr, 1);
      return invalidate({ ...info, addr_info: { ...(info.addr_info as object), granule_size, nb_granules } });
    };
    // 2M x (2^32 - 1): 2^41 - 2^9 pages, order 41: the whole cache of the PASID is in range
    given('host-vtd', ...cached('mainline')).when(sized(0x200000, 2 ** 32 - 1)).then(returns(0), doesNotEmit('sva_invalidate.rejected'), emits('qi.piotlb', { granu: 'PSI_PASID', addr: 0, npages: 2 ** 41, pages: [5, 6] }));
    // 2^63 x 2 wraps to 0 bytes: order 0, one page
    given('host-vtd', ...cached('mainline')).when(sized(2 ** 63, 2, 0x5000)).then(returns(0), emits('qi.piotlb', { addr: 0x5000, npages: 1, pages: [5] }));
    // 6000 bytes: (6000 >> 12) = 1 page, order 0
    given('host-vtd', ...cached('mainline')).when(sized(6000, 1, 0x5000)).then(returns(0), emits('qi.piotlb', { addr: 0x5000, npages: 1, pages: [5] }));
  });

  it('a misaligned ADDR range: -ERANGE with the v5.8 check ("Address out of range"), a warning and an aligned flush in mainline', () => {
    // 2 pages from page 5: size order 1, so the address must be 8K-aligned (the preset values of
    // vtd.psi_misaligned are the lead's to place: the override names the behaviour under test)
    given('host-vtd', ...cached('v7', { 'vtd.psi_misaligned': 'ERANGE' }))
      .when(invalidate(addrInvalidateInfo(P, 0x5000, 2)))
      .then(
        returns(-ERANGE),
        rejected('ERANGE', 'address 20480 is not aligned to 2 pages'),
        emits('dmesg', { level: 'err', fn: 'intel_iommu_sva_invalidate', text: 'DMAR: Address out of range, 0x5000, size order 1' }),
        doesNotEmit('qi.piotlb'),
      );
    given('host-vtd', ...cached('mainline')).when(invalidate(addrInvalidateInfo(P, 0x5000, 2))).then(returns(0), emits('qi.piotlb', { granu: 'PSI_PASID', addr: 0x4000, npages: 2, pages: [5] }));
  });

  it('"warn" (1ff00279655d): the flush goes on, and the kernel prints the misaligned address with pr_err (DOMAIN.md §7.7)', () => {
    given('host-vtd', ...cached('v7', { 'vtd.psi_misaligned': 'warn' }))
      .when(invalidate(addrInvalidateInfo(P, 0x5000, 2)))
      .then(
        returns(0),
        emits('sva_invalidate.warning', { dev: RID }),
        emits('dmesg', { level: 'err', fn: 'intel_iommu_sva_invalidate', text: 'DMAR: User address not aligned, 0x5000, size order 1' }),
        emitsInOrder('dmesg', 'qi.piotlb'),
      );
  });

  it('size order 0 (one page) is never checked: any address passes, even under -ERANGE (DOMAIN.md §7.7)', () => {
    given('host-vtd', ...cached('v7', { 'vtd.psi_misaligned': 'ERANGE' }))
      .when(invalidate(addrInvalidateInfo(P, 0x5800, 1)))
      .then(returns(0), emits('qi.piotlb', { granu: 'PSI_PASID', npages: 1, pages: [5] }), doesNotEmit('sva_invalidate.warning'), doesNotEmit('dmesg'));
  });

  it('the check is in the IOTLB case only: a misaligned DEV_IOTLB-only ADDR request flushes the devTLB, even under -ERANGE (DOMAIN.md §7.7)', () => {
    given('host-vtd', ...cached('v7', { 'vtd.psi_misaligned': 'ERANGE' }))
      .when(invalidate(addrInvalidateInfo(P, 0x5000, 2, DEV_IOTLB)))
      .then(returns(0), emits('qi.devtlb', { sid: RID, pasid: P }), doesNotEmit('sva_invalidate.rejected'), doesNotEmit('qi.piotlb'));
  });

  it('v7: the ownership check (inside the loop) comes before the IOTLB case\'s alignment check', () => {
    given('host-vtd', ...cached('v7', { 'vtd.psi_misaligned': 'ERANGE' }))
      .when(invalidate(addrInvalidateInfo(Q, 0x5000, 2)))
      .then(returns(-EINVAL), rejected('EINVAL', 'ioasid_find: PASID 4 is in set vm2, not vm1'), doesNotEmit('dmesg'));
  });

  it('the presets follow their hosts: v6 (v5.8) -ERANGE, v7 (v5.9-rc2 has 1ff00279655d) the pr_err and the flush (DOMAIN.md §7.1)', () => {
    given('host-vtd', ...cached('v6')).when(invalidate(addrInvalidateInfo(P, 0x5000, 2))).then(returns(-ERANGE), doesNotEmit('qi.piotlb'));
    given('host-vtd', ...cached('v7')).when(invalidate(addrInvalidateInfo(P, 0x5000, 2))).then(returns(0), emits('dmesg', { level: 'err' }), emits('qi.piotlb', { granu: 'PSI_PASID' }));
  });

  it('the PASID is used only with the PASID flag: without it, PASID 0 is flushed (v1), or ioasid_find(0) fails with the ownership check (v2 on, DOMAIN.md §7.8, §7.1)', () => {
    const noFlag = invalidate(pasidInvalidateInfo(P, IOTLB, { pasid_info: { flags: 0, pasid: P } }));
    given('host-vtd', ...cached('v1')).when(noFlag).then(returns(0), emits('qi.piotlb', { did: 2, pasid: 0, pages: [], processed: 0 }));
    given('host-vtd', ...cached('v7')).when(noFlag).then(returns(-EINVAL), rejected('EINVAL', 'ioasid_find: PASID 0 not allocated'), doesNotEmit('qi.piotlb'));
  });
});

describe('intel_iommu_sva_invalidate: DEV_IOTLB', () => {
  it('ADDR granularity flushes that range of the device TLB (PASID_SEL), and not the IOTLB', () => {
    given('host-vtd', ...cached('mainline'))
      .when(invalidate(addrInvalidateInfo(P, 0x6000, 1, DEV_IOTLB)))
      .then(returns(0), emits('qi.devtlb', { sid: RID, pasid: P, addr: 0x6000, npages: 1 }), doesNotEmit('qi.piotlb'));
  });

  it('a device without ATS: a warning, no devTLB invalidation, success', () => {
    given('host-vtd', ...cached('mainline', {}, { ...TOPOLOGY, parents: [{ ...DSA0, ats: false }] }))
      .when(invalidate(addrInvalidateInfo(P, 0x6000, 1, DEV_IOTLB)))
      .then(returns(0), emits('sva_invalidate.warning', { dev: RID, why: 'DEV_IOTLB requested, ATS not enabled' }), sendsTimes('mdev-parent', 'devtlb_invalidate', 0));
  });
});

describe('intel_iommu_sva_invalidate: a type x granularity outside the map (bug #5)', () => {
  it('every preset: a PASID-cache request, and DEV_IOTLB at PASID granularity, break the loop with ret 0: success, nothing flushed', () => {
    given('host-vtd', ...cached('mainline'))
      .when(invalidate(pasidInvalidateInfo(P, PASID_CACHE)))
      .then(returns(0), emits('sva_invalidate.unsupported', { cache: 'PASID', granularity: 'PASID' }), doesNotEmit('qi.piotlb'), doesNotEmit('qi.pasid_cache'), emits('sva_invalidate.done', { ret: 0 }));
    given('host-vtd', ...cached('v7'))
      .when(invalidate(pasidInvalidateInfo(P, DEV_IOTLB)))
      .then(returns(0), emits('sva_invalidate.unsupported', { cache: 'DEV_IOTLB', granularity: 'PASID' }), sendsTimes('mdev-parent', 'devtlb_invalidate', 0));
  });

  it('v7/v8 (v5.9 core): the PASID cache at ADDR granularity and DEV_IOTLB at DOMAIN granularity reach the driver\'s map: success too', () => {
    given('host-vtd', ...cached('v7'))
      .when(invalidate(addrInvalidateInfo(P, 0x5000, 1, PASID_CACHE)))
      .then(returns(0), emits('sva_invalidate.unsupported', { cache: 'PASID', granularity: 'ADDR' }), doesNotEmit('qi.piotlb'));
    given('host-vtd', ...cached('v8'))
      .when(invalidate(pasidInvalidateInfo(P, DEV_IOTLB, { granularity: DOMAIN })))
      .then(returns(0), emits('sva_invalidate.unsupported', { cache: 'DEV_IOTLB', granularity: 'DOMAIN' }), sendsTimes('mdev-parent', 'devtlb_invalidate', 0));
  });

  it('mainline (DOMAIN.md §7.6): the v5.10+ core (iommu_check_cache_invl_data) refuses both before the driver: -EINVAL', () => {
    given('host-vtd', ...cached('mainline'))
      .when(invalidate(addrInvalidateInfo(P, 0x5000, 1, PASID_CACHE)))
      .then(returns(-EINVAL), rejected('EINVAL', 'ADDR granularity with the PASID cache', 'malformed'), doesNotEmit('sva_invalidate.unsupported'), doesNotEmit('qi.piotlb'));
    given('host-vtd', ...cached('mainline'))
      .when(invalidate(pasidInvalidateInfo(P, DEV_IOTLB | IOTLB, { granularity: DOMAIN })))
      .then(returns(-EINVAL), rejected('EINVAL', 'DOMAIN granularity with DEV_IOTLB', 'malformed'), doesNotEmit('qi.piotlb'), sendsTimes('mdev-parent', 'devtlb_invalidate', 0));
  });

  it('the fix (vtd.unsupported_inval=EINVAL) returns -EINVAL', () => {
    given('host-vtd', ...cached('mainline', { 'vtd.unsupported_inval': 'EINVAL' }))
      .when(invalidate(pasidInvalidateInfo(P, PASID_CACHE)))
      .then(returns(-EINVAL), emits('sva_invalidate.unsupported', { cache: 'PASID' }), emits('sva_invalidate.done', { ret: -EINVAL }));
  });
});

describe('intel_iommu_sva_invalidate: errors', () => {
  it('-EINVAL with no domain; -ENODEV (not an oops) for a NULL device or one behind no IOMMU', () => {
    given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(P), { domain: 9 })).then(returns(-EINVAL), rejected('EINVAL', 'no info or no domain'));
    given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(P), { dev: null })).then(returns(-ENODEV), rejected('ENODEV', 'dev is NULL, not PCI, or has no IOMMU'), doesNotEmit('oops'));
    given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(P), { dev: '00:02.0' })).then(returns(-ENODEV), rejected('ENODEV', 'dev is NULL, not PCI, or has no IOMMU'));
  });

  it('-EINVAL for a malformed struct: version, cache bits, granularity', () => {
    const bad = (over: Record<string, unknown>, why: string) =>
      given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(P, IOTLB, over))).then(returns(-EINVAL), rejected('EINVAL', why, 'malformed'), doesNotEmit('qi.piotlb'));
    bad({ version: 2 }, 'version 2 is not 1');
    bad({ cache: 8 }, 'unknown cache type bits');
    bad({ granularity: 3 }, 'granularity >= IOMMU_INV_GRANU_NR');
  });

  it('argsz (DOMAIN.md §7.6): at least offsetof(granu) = 16, and the end of the member the granularity reads: pasid_info 32, addr_info 56; checked before the version', () => {
    const bad = (info: Record<string, unknown>, why: string) =>
      given('host-vtd', ...cached('v7')).when(invalidate(info)).then(returns(-EINVAL), rejected('EINVAL', why, 'malformed'), doesNotEmit('qi.piotlb'));
    bad(pasidInvalidateInfo(P, IOTLB, { argsz: 15, version: 2 }), 'argsz < offsetof(iommu_cache_invalidate_info, granu)');
    bad(pasidInvalidateInfo(P, IOTLB, { argsz: 31 }), 'argsz < offsetofend(iommu_cache_invalidate_info, granu.pasid_info)');
    bad({ ...addrInvalidateInfo(P, 0x5000, 1), argsz: 55 }, 'argsz < offsetofend(iommu_cache_invalidate_info, granu.addr_info)');
    given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(P, IOTLB, { argsz: 32 }))).then(returns(0), emits('qi.piotlb', { granu: 'NONG_PASID', pasid: P }));
    // DOMAIN granularity reads no member: 16 bytes reach the driver (whose map rejects IOTLB x DOMAIN with ret 0)
    given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(P, IOTLB, { argsz: 16, granularity: DOMAIN }))).then(returns(0), emits('sva_invalidate.unsupported', { cache: 'IOTLB', granularity: 'DOMAIN' }));
  });

  it('-EINVAL when the domain is not nesting', () => {
    given('host-vtd', runOpen('v7'), iommu_domain_alloc('vm1', false), iommu_aux_attach_device('vm1', 1, 'mdev1'), ioasid_alloc('vm1', P))
      .when(invalidate(pasidInvalidateInfo(P)))
      .then(returns(-EINVAL), rejected('EINVAL', 'domain is not nesting, or no device_domain_info'));
  });

  it('v7 ownership (DOMAIN.md §7.8): ioasid_find in the VM\'s set inside the loop, -EINVAL for another VM\'s PASID or one never allocated, and nothing flushed', () => {
    given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(Q))).then(returns(-EINVAL), rejected('EINVAL', 'ioasid_find: PASID 4 is in set vm2, not vm1'), doesNotEmit('qi.piotlb'));
    given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(99))).then(returns(-EINVAL), rejected('EINVAL', 'ioasid_find: PASID 99 not allocated'));
  });

  it('v7 ownership comes after the granularity check: an unsupported type x granularity breaks out first (ret 0, bug #5), whoever owns the PASID', () => {
    // the PASID cache at PASID granularity is rejected by the map before any ioasid_find
    given('host-vtd', ...cached('v7')).when(invalidate(pasidInvalidateInfo(Q, PASID_CACHE))).then(returns(0), emits('sva_invalidate.unsupported', { cache: 'PASID' }), doesNotEmit('sva_invalidate.rejected'));
  });

  it('v1 has no ownership check (it starts at v2): vm1 flushes vm2\'s PASID through its own domain (bug #12)', () => {
    given('host-vtd', ...cached('v1')).when(invalidate(pasidInvalidateInfo(Q))).then(returns(0), emits('qi.piotlb', { did: 2, pasid: Q }));
  });
});
