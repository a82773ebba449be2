import { describe, expect, it } from 'vitest';
import { PGTT_NESTED } from '../../libs/contracts/src/index.js';
import type { Topology } from '../../libs/domain/src/index.js';
import {
  EACCES, EBUSY, EINVAL, ENOENT, RID, doesNotEmit, emits, emitsInOrder, given, oopses, returns, type Input,
} from './gwt.js';
import { HOST, TOPOLOGY, gpasidBindData, ioasid_alloc, iommu_aux_attach_device, iommu_domain_alloc, iommu_sva_bind_gpasid, runOpen } from './inputs.js';

// intel_svm_bind_gpasid + intel_pasid_setup_nested (DOMAIN.md §2.2 points 5-6), as VFIO calls it
// through iommu_sva_bind_gpasid for one device of the container.

const P = 3; // vm1's PASID
const Q = 4; // vm2's PASID, on the same IOMMU

/** vm1's aux domain 1 (DID 2) and vm2's aux domain 2 (DID 3) on dsa0; PASID 3 in vm1's set, 4 in vm2's. */
const attached = (preset: string, sets: Record<string, string | boolean> = {}, topology: Topology = TOPOLOGY): Input[] => [
  runOpen(preset, sets, topology),
  iommu_domain_alloc('vm1'),
  iommu_aux_attach_device('vm1', 1, 'mdev1'), // default PASID 1, in the host's set
  iommu_domain_alloc('vm2'),
  iommu_aux_attach_device('vm2', 2, 'mdev3'), // default PASID 2
  ioasid_alloc('vm1', P),
  ioasid_alloc('vm2', Q),
];
/** iommu_sva_bind_gpasid(domain 1, dsa0, data) for vm1's mdev1, or as `over` says */
const bind = (data: Record<string, unknown>, over: Partial<Parameters<typeof iommu_sva_bind_gpasid>[0]> = {}) => iommu_sva_bind_gpasid({ ...over, data });
const rejected = (errno: string, why: string | RegExp) =>
  emits('bind_gpasid.rejected', { dev: RID, errno, why: typeof why === 'string' ? why : expect.stringMatching(why) });

describe('intel_svm_bind_gpasid: success', () => {
  it('binds: svm and sdev for (dev, PASID), then a nested PASID entry (PGTT=3) with the guest gPGD and the domain DID', () => {
    given('host-vtd', ...attached('v7'))
      .when(bind(gpasidBindData(P)))
      .then(
        returns(0),
        emits('svm.bound', { vm: 'vm1', dev: RID, mdev: 'mdev1', domain: 1, hpasid: P, gpasid: P, owner: 'vm1' }),
        emits('pasid_entry.set', { dev: RID, pasid: P, via: 'intel_pasid_setup_nested', entry: { p: true, fpd: false, pgtt: PGTT_NESTED, flptr: 0x345000, did: 2, aw: 48, vm: 'vm1' } }),
        // not caching mode: a write-buffer flush, no PASID-cache or IOTLB invalidation
        doesNotEmit('qi.pasid_cache'),
        doesNotEmit('qi.piotlb'),
      );
  });

  it('in caching mode (an emulated host IOMMU) flushes the PASID cache, then the PIOTLB, after writing the entry', () => {
    given('host-vtd', ...attached('v7', {}, { ...TOPOLOGY, host: { ...HOST, caching_mode: true } }))
      .when(bind(gpasidBindData(P)))
      .then(
        returns(0),
        emitsInOrder('pasid_entry.set', 'qi.pasid_cache', 'qi.piotlb'),
        emits('qi.pasid_cache', { did: 2, pasid: P, why: 'setup_nested (CM)' }),
        emits('qi.piotlb', { did: 2, pasid: P, granu: 'NONG_PASID', why: 'setup_nested (CM)' }),
      );
  });

  it('bug #7: before "Fix sid not set issue" (v7) sdev->sid stays unset; mainline sets it to the RID', () => {
    given('host-vtd', ...attached('v7')).when(bind(gpasidBindData(P))).then(returns(0), emits('svm.bound', { hpasid: P, sid: null }));
    given('host-vtd', ...attached('mainline')).when(bind(gpasidBindData(P))).then(returns(0), emits('svm.bound', { hpasid: P, sid: RID }));
  });

  it('a 57-bit first level binds when the host has LA57 and cap_5lp', () => {
    given('host-vtd', ...attached('v7', {}, { ...TOPOLOGY, host: { ...HOST, la57: true, cap_5lp: true } }))
      .when(bind(gpasidBindData(P, { addr_width: 57 })))
      .then(returns(0), emits('pasid_entry.set', { pasid: P, entry: expect.objectContaining({ aw: 57 }) }));
  });
});

describe('intel_svm_bind_gpasid: the user struct (iommu_uapi_sva_bind_gpasid, then the driver)', () => {
  const v7 = () => given('host-vtd', ...attached('v7'));

  it('the core (DOMAIN.md §7.6): -EINVAL for argsz below offsetof(vendor) (56), version not 1, a format past IOMMU_PASID_FORMAT_LAST, flags other than GPASID_VAL', () => {
    v7().when(bind(gpasidBindData(P, { argsz: 55 }))).then(returns(-EINVAL), rejected('EINVAL', 'argsz < offsetof(iommu_gpasid_bind_data, vendor)'), doesNotEmit('svm.bound'));
    v7().when(bind(gpasidBindData(P, { version: 2 }))).then(returns(-EINVAL), rejected('EINVAL', /^version 2/));
    v7().when(bind(gpasidBindData(P, { format: 2 }))).then(returns(-EINVAL), rejected('EINVAL', 'format 2 >= IOMMU_PASID_FORMAT_LAST'));
    v7().when(bind(gpasidBindData(P, { flags: 6 }))).then(returns(-EINVAL), rejected('EINVAL', 'unknown flags'));
  });

  it('the driver (DOMAIN.md §7.6): -EINVAL for argsz below offsetofend(vendor.vtd) (72), which the core let through', () => {
    v7().when(bind(gpasidBindData(P, { argsz: 64 }))).then(returns(-EINVAL), rejected('EINVAL', 'argsz < offsetofend(iommu_gpasid_bind_data, vendor.vtd)'), doesNotEmit('svm.bound'));
    v7().when(bind(gpasidBindData(P, { argsz: 56 }))).then(returns(-EINVAL), rejected('EINVAL', 'argsz < offsetofend(iommu_gpasid_bind_data, vendor.vtd)'));
    v7().when(bind(gpasidBindData(P, { argsz: 72 }))).then(returns(0), emits('svm.bound', { hpasid: P }));
  });

  it('the driver: -EINVAL for a format other than IOMMU_PASID_FORMAT_INTEL_VTD, and vendor.vtd flags from IOMMU_SVA_VTD_GPASID_LAST (1 << 7) up', () => {
    v7().when(bind(gpasidBindData(P, { format: 0 }))).then(returns(-EINVAL), rejected('EINVAL', /^format 0 is not/));
    v7().when(bind(gpasidBindData(P, { vendor: { vtd: { flags: 1 << 7, pat: 0, emt: 0 } } }))).then(returns(-EINVAL), rejected('EINVAL', 'unknown vendor.vtd flags'));
  });

  it('IOMMU_SVA_VTD_GPASID_WPE (1 << 6) is a known vendor.vtd flag (DOMAIN.md §7.6): the bind goes through', () => {
    v7().when(bind(gpasidBindData(P, { vendor: { vtd: { flags: 1 << 6, pat: 0, emt: 0 } } }))).then(returns(0), emits('svm.bound', { hpasid: P }));
  });

  it('-EINVAL: hpasid 0 (RID2PASID) or at PASID_MAX', () => {
    v7().when(bind(gpasidBindData(0))).then(returns(-EINVAL), rejected('EINVAL', 'hpasid outside (0, PASID_MAX)'));
    v7().when(bind(gpasidBindData(0x100000))).then(returns(-EINVAL), rejected('EINVAL', 'hpasid outside (0, PASID_MAX)'));
  });

  it('-EINVAL: a device with no device_domain_info in this domain, and a device behind no IOMMU', () => {
    // dsa0 is aux-attached to domain 1 and 2, not to a domain 3 that was never allocated
    v7().when(bind(gpasidBindData(P), { domain: 3 })).then(returns(-EINVAL), rejected('EINVAL', 'no device_domain_info for the device in this domain'));
    v7().when(bind(gpasidBindData(P), { dev: '00:02.0' })).then(returns(-EINVAL), emits('bind_gpasid.rejected', { dev: '00:02.0', errno: 'EINVAL', why: 'device_to_iommu: no IOMMU for the device' }));
  });
});

describe('intel_svm_bind_gpasid: PASID ownership (v7 09/16 "Check ownership for guest PASID")', () => {
  it('v7: -ENOENT for a PASID never allocated, -EACCES for a PASID of another VM\'s set', () => {
    given('host-vtd', ...attached('v7')).when(bind(gpasidBindData(99))).then(returns(-ENOENT), rejected('ENOENT', 'ioasid_find: PASID not allocated'));
    given('host-vtd', ...attached('v7')).when(bind(gpasidBindData(Q))).then(returns(-EACCES), rejected('EACCES', 'ioasid_find: PASID belongs to set vm2'));
  });

  it('v1 has no ownership check (it starts at v2, DOMAIN.md §7.1): vm1 binds vm2\'s PASID on its own domain (bug #12)', () => {
    given('host-vtd', ...attached('v2')).when(bind(gpasidBindData(Q))).then(returns(-EACCES), doesNotEmit('svm.bound'));
    given('host-vtd', ...attached('v1'))
      .when(bind(gpasidBindData(Q)))
      .then(returns(0), emits('svm.bound', { vm: 'vm1', hpasid: Q, owner: 'vm2' }));
  });
});

describe('intel_svm_bind_gpasid: (dev, PASID) already bound', () => {
  const bound = (preset: string) => given('host-vtd', ...attached(preset), bind(gpasidBindData(P)));

  it('v7 (d315e9e684d1): a second bind of the same (dev, PASID) is -EBUSY and changes nothing', () => {
    bound('v7').when(bind(gpasidBindData(P))).then(returns(-EBUSY), rejected('EBUSY', '(dev, PASID) already bound'), doesNotEmit('svm.users_inc'), doesNotEmit('pasid_entry.set'));
  });

  it('v1 (before d315e9e684d1, and without the ownership check): an aux device counts the bind in sdev->users and reports success (bug #6)', () => {
    // the second bind comes through vm2's aux domain: one PASID entry, the first domain's second level
    bound('v1')
      .when(bind(gpasidBindData(P), { vm: 'vm2', domain: 2, mdev: 'mdev3' }))
      .then(returns(0), emits('svm.users_inc', { dev: RID, hpasid: P, users: 2, domain: 2, boundDomain: 1 }), doesNotEmit('pasid_entry.set'));
  });

  it('-EBUSY from intel_pasid_setup_nested when the PASID entry is present without an svm (the aux domain\'s default PASID)', () => {
    // PASID 1 is the default PASID of vm1's aux domain: its entry is present (PGTT=SL), no svm binds it
    // (v1: no ownership check, which would refuse the host's own PASID first)
    given('host-vtd', ...attached('v1')).when(bind(gpasidBindData(1))).then(returns(-EBUSY), rejected('EBUSY', 'PASID entry already present'));
  });
});

describe('intel_pasid_setup_nested: -EINVAL', () => {
  it('the domain is not DOMAIN_FLAG_NESTING_MODE', () => {
    given('host-vtd', runOpen('v7'), iommu_domain_alloc('vm1', false), iommu_aux_attach_device('vm1', 1, 'mdev1'), ioasid_alloc('vm1', P))
      .when(bind(gpasidBindData(P)))
      .then(returns(-EINVAL), rejected('EINVAL', 'no ecap_nest, or the domain is not DOMAIN_FLAG_NESTING_MODE'));
  });

  it('no ecap_nest on the host IOMMU', () => {
    given('host-vtd', ...attached('v7', {}, { ...TOPOLOGY, host: { ...HOST, ecap: { ...HOST.ecap, nest: false } } }))
      .when(bind(gpasidBindData(P)))
      .then(returns(-EINVAL), rejected('EINVAL', 'no ecap_nest, or the domain is not DOMAIN_FLAG_NESTING_MODE'));
  });

  it('address width: 57 without LA57 and cap_5lp; neither 48 nor 57', () => {
    given('host-vtd', ...attached('v7')).when(bind(gpasidBindData(P, { addr_width: 57 }))).then(returns(-EINVAL), rejected('EINVAL', '57-bit first level needs LA57 and cap_5lp'));
    given('host-vtd', ...attached('v7')).when(bind(gpasidBindData(P, { addr_width: 39 }))).then(returns(-EINVAL), rejected('EINVAL', 'address width 39 is neither 48 nor 57'));
  });

  it('a gPGD beyond the domain max_addr (the end of the guest RAM mapped at GPA 0), not the address width (DOMAIN.md §7.9)', () => {
    // vm1 has 4096 pages of RAM: max_addr is 16 MiB
    const ram = 4096 * 4096;
    given('host-vtd', ...attached('v7')).when(bind(gpasidBindData(P, { gpgd: 2 ** 48 }))).then(returns(-EINVAL), rejected('EINVAL', 'gPGD beyond the domain max_addr'));
    given('host-vtd', ...attached('v7')).when(bind(gpasidBindData(P, { gpgd: ram + 4096 }))).then(returns(-EINVAL), rejected('EINVAL', 'gPGD beyond the domain max_addr'));
    given('host-vtd', ...attached('v7')).when(bind(gpasidBindData(P, { gpgd: ram - 4096 }))).then(returns(0));
  });

  it('SRE without ecap_srs, EAFE without ecap_eafs, and any memory-type flag (PCD)', () => {
    const vtd = (flags: number) => ({ vendor: { vtd: { flags, pat: 0, emt: 0 } } });
    given('host-vtd', ...attached('v7', {}, { ...TOPOLOGY, host: { ...HOST, ecap: { ...HOST.ecap, srs: false } } }))
      .when(bind(gpasidBindData(P, vtd(1 << 0)))).then(returns(-EINVAL), rejected('EINVAL', 'SRE without ecap_srs'));
    given('host-vtd', ...attached('v7', {}, { ...TOPOLOGY, host: { ...HOST, ecap: { ...HOST.ecap, eafs: false } } }))
      .when(bind(gpasidBindData(P, vtd(1 << 1)))).then(returns(-EINVAL), rejected('EINVAL', 'EAFE without ecap_eafs'));
    given('host-vtd', ...attached('v7')).when(bind(gpasidBindData(P, vtd(1 << 2)))).then(returns(-EINVAL), rejected('EINVAL', 'memory-type flags are not supported'));
  });
});

describe('intel_svm_bind_gpasid: a NULL device (bug #1), as the host kernel meets it (DOMAIN.md §7.2)', () => {
  it('a v5.6-v5.8 host (v1) dereferences it looking up its IOMMU: an oops, printed as the console shows it', () => {
    given('host-vtd', ...attached('v1'))
      .when(bind(gpasidBindData(P), { dev: null, mdev: 'mdev2' }))
      .then(
        oopses('intel_svm_bind_gpasid'),
        emits('oops', { fn: 'intel_svm_bind_gpasid', what: 'BUG: kernel NULL pointer dereference' }),
        emitsInOrder('oops', 'dmesg', 'dmesg', 'dmesg'),
        emits('dmesg', { level: 'alert', text: 'BUG: kernel NULL pointer dereference, address: 0000000000000000' }),
        emits('dmesg', { level: 'emerg', text: 'RIP: 0010:intel_svm_bind_gpasid' }),
        doesNotEmit('svm.bound'),
      );
  });

  it('a v5.9+ host (v7) finds no IOMMU for it: WARN_ON(!iommu) prints a warning and the bind returns -EINVAL, no oops', () => {
    given('host-vtd', ...attached('v7'))
      .when(bind(gpasidBindData(P), { dev: null, mdev: 'mdev2' }))
      .then(
        returns(-EINVAL),
        doesNotEmit('oops'),
        emits('null_device.warned', { fn: 'intel_svm_bind_gpasid', errno: 'EINVAL' }),
        emits('dmesg', { level: 'warn', fn: 'intel_svm_bind_gpasid', text: 'WARNING: CPU: 0 PID: 0 at drivers/iommu/intel/svm.c intel_svm_bind_gpasid' }),
        doesNotEmit('svm.bound'),
      );
    // the host kernel is the preset's, and an override moves it: v1's VFIO on a v5.9 host
    given('host-vtd', ...attached('v1', { 'vtd.null_device': 'WARN' })).when(bind(gpasidBindData(P), { dev: null })).then(returns(-EINVAL), doesNotEmit('oops'));
  });

  it('bug #19 (dev tree @031c5ee2): sdev->iommu written while sdev is NULL, on the first bind of a PASID', () => {
    given('host-vtd', ...attached('v7', { 'vtd.sdev_iommu_before_alloc': true }))
      .when(bind(gpasidBindData(P)))
      .then(oopses('intel_svm_bind_gpasid'), emits('oops', { detail: 'sdev->iommu = iommu while sdev is still NULL (the !svm branch)' }));
  });
});
