import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../libs/contracts/src/index.js';
import { bindAtomic } from '../../libs/checkers/src/bind-atomic.js';
import { History } from '../../libs/checkers/src/types.js';
import { uapiErrno } from '../../libs/checkers/src/uapi-errno.js';
import { run, type Ran } from '../domain/support.js';

/** a scenario whose VMM issues one ioctl after a PASID was allocated and bound */
const oneIoctl = (step: string) => `
name: one-ioctl
description: one VMM ioctl
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]
vms: [{ id: vm1, mdevs: [{ id: mdev1, parent: dsa0 }] }]
steps:
  - { op: pasid_alloc, vm: vm1, as: p }
  - { op: bind, vm: vm1, pasid: $p, gpgd: 0x100000 }
  - ${step}
`;

const messages = (entries: LogEntry[], checker = uapiErrno) => checker.check(new History(entries)).map((v) => v.message);

/** the log with the reply to the `nth` VMM ioctl of `type` answering `ret` instead */
function withRet(r: Ran, type: 'VFIO_IOMMU_PASID_REQUEST' | 'VFIO_IOMMU_NESTING_OP', nth: number, ret: number): LogEntry[] {
  const ioctl = r.entries.filter((e) => e.kind === 'command' && e.type === type && e.component === 'guest-viommu')[nth]!;
  const reply = r.entries.find((e) => e.kind === 'command' && e.type === `${type}.ret` && (e.payload as { re?: string }).re === ioctl.eventId)!;
  return r.entries.map((e) => (e === reply ? { ...e, payload: { ...(e.payload as object), ret } } : e));
}

describe('uapi-errno judges each VMM ioctl both ways by the uAPI rules', () => {
  it('an unsupported cache type x granularity reported as success (bug #5) is one violation, with the rule that refuses it', async () => {
    const r = await run(oneIoctl('{ op: ioctl_invalidate, vm: vm1, cache: 4, granularity: 1, flags: 1, pasid: $p }'), 'mainline');
    expect(messages(r.entries)).toEqual([expect.stringMatching(/^CACHE_INVLD returned 0 for an iommu_cache_invalidate_info the kernel's checks refuse .*type_granu/)]);
  });

  it('a PASID beyond a small host PASID space is not judged a valid struct the IOMMU refused (PASID_MAX is the host\'s)', async () => {
    const r = await run(oneIoctl('{ op: iotlb_invalidate, vm: vm1, pasid: 71 }').replace('parents:', 'host: { pasid_bits: 3 }\nparents:'), 'mainline');
    expect(r.entries.some((e) => e.type === 'sva_invalidate.rejected')).toBe(true);
    expect(messages(r.entries)).toEqual([]);
  });

  it('an ioctl after the VM was torn down is not judged (its VMM closed the container: it has no fd to issue it on)', async () => {
    const r = await run(oneIoctl('{ op: vm_teardown, vm: vm1 }\n  - { op: ioctl_pasid_request, vm: vm1, flags: 3 }'), 'mainline');
    const reply = r.entries.filter((e) => e.kind === 'command' && e.type === 'VFIO_IOMMU_PASID_REQUEST.ret').at(-1)!;
    expect((reply.payload as { ret: number }).ret).not.toBe(-22);
    expect(messages(r.entries)).toEqual([]);
    // the same request before the teardown is judged
    const before = await run(oneIoctl('{ op: ioctl_pasid_request, vm: vm1, flags: 3 }'), 'mainline');
    expect(messages(withRet(before, 'VFIO_IOMMU_PASID_REQUEST', 1, -19))).toEqual([expect.stringMatching(/^PASID_REQUEST returned -ENODEV/)]);
  });

  it('a refused PASID_REQUEST must get -EINVAL; a valid one must not get it', async () => {
    const r = await run(oneIoctl('{ op: ioctl_pasid_request, vm: vm1, argsz: 8, flags: 1, min: 1, max: 100 }'), 'mainline');
    expect(messages(r.entries)).toEqual([]);
    // a kernel that allocates although argsz is short
    expect(messages(withRet(r, 'VFIO_IOMMU_PASID_REQUEST', 1, 7))).toEqual([expect.stringMatching(/^PASID_REQUEST returned 7 for a request the uAPI refuses with -EINVAL: pasid_request\.argsz/)]);
    // a kernel that refuses the guest's valid ALLOC as malformed
    expect(messages(withRet(r, 'VFIO_IOMMU_PASID_REQUEST', 0, -22))).toEqual([expect.stringMatching(/^PASID_REQUEST refused a request every rule .* accepts with -EINVAL/)]);
  });

  it('-EINVAL for a valid PASID_REQUEST is not judged where the policy makes it a state errno', async () => {
    const r = await run(oneIoctl('{ op: ioctl_pasid_request, vm: vm1, argsz: 16, flags: 1, min: 1, max: 100 }'), 'v7', { 'vfio.no_vmm_errno': 'EINVAL' });
    expect(messages(withRet(r, 'VFIO_IOMMU_PASID_REQUEST', 1, -22))).toEqual([]);
  });

  it('a NESTING_OP header the uAPI refuses must get -EINVAL', async () => {
    const r = await run(oneIoctl('{ op: ioctl_invalidate, vm: vm1, op_argsz: 4, cache: 1, granularity: 1, pasid: $p }'), 'mainline');
    expect(messages(r.entries)).toEqual([]);
    expect(messages(withRet(r, 'VFIO_IOMMU_NESTING_OP', 1, 0))).toEqual([expect.stringMatching(/^NESTING_OP returned 0 for a header the uAPI refuses with -EINVAL: nesting_op\.argsz/)]);
  });

  it('a bind data the kernel\'s checks refuse must get -EINVAL once it reached the IOMMU layer', async () => {
    const r = await run(oneIoctl('{ op: ioctl_bind, vm: vm1, hpasid: $p, version: 2 }'), 'mainline');
    expect(messages(r.entries)).toEqual([]);
    const accepted = withRet(r, 'VFIO_IOMMU_NESTING_OP', 1, 0);
    expect(messages(accepted)).toEqual([expect.stringMatching(/^BIND_PGTBL returned 0 for an iommu_gpasid_bind_data the kernel's checks refuse with -EINVAL .*gpasid_bind_data\.version/)]);
    // and a bind reported as success although the device was never bound
    expect(messages(accepted, bindAtomic)).toEqual([expect.stringMatching(/returned 0 but mdev1 of group mdev1 .* was not bound/)]);
  });

  it('an invalidate info refused by the core must get -EINVAL; v2-v8 ignore it (bug #3)', async () => {
    const step = '{ op: ioctl_invalidate, vm: vm1, argsz: 16, cache: 1, granularity: 1, pasid: $p }';
    const r = await run(oneIoctl(step), 'mainline');
    expect(messages(r.entries)).toEqual([]);
    // (the first check of uapi-errno, reading the IOMMU's own refusal, agrees)
    expect(messages(withRet(r, 'VFIO_IOMMU_NESTING_OP', 1, 0))).toEqual(expect.arrayContaining([expect.stringMatching(/^CACHE_INVLD returned 0 .*the IOMMU answered -EINVAL \(22\), VFIO reported 0.*cache_invalidate_info\.argsz_granu/)]));
    const v7 = await run(oneIoctl(step), 'v7');
    expect(messages(v7.entries)).toEqual(expect.arrayContaining([expect.stringMatching(/^CACHE_INVLD returned 0 .*argsz_granu/)]));
  });

  it('a valid invalidate info the IOMMU records as malformed is a violation', async () => {
    const r = await run(oneIoctl('{ op: ioctl_invalidate, vm: vm1, cache: 1, granularity: 1, pasid: $p }'), 'mainline');
    expect(messages(r.entries)).toEqual([]);
    // the host's success record replaced by a refusal of the struct, and the error passed on
    const done = r.entries.find((e) => e.type === 'sva_invalidate.done' && e.correlationId.endsWith('step-5'))!;
    const refused = withRet(r, 'VFIO_IOMMU_NESTING_OP', 1, -22).map((e) => (e === done
      ? { ...e, type: 'sva_invalidate.rejected', payload: { vm: 'vm1', dev: '6a:01.0', errno: 'EINVAL', why: 'version is not 1', kind: 'malformed' } } : e));
    expect(messages(refused)).toEqual([expect.stringMatching(/^the IOMMU refused an iommu_cache_invalidate_info that every rule .* accepts \(version is not 1\)/)]);
  });
});

describe('bind-atomic: a bind answered 0 bound every device', () => {
  it('a missing svm.bound under a successful bind is a violation; the untouched run has none', async () => {
    const r = await run('scenarios/core-uapi-invalidate-checks.yaml', 'mainline');
    expect(messages(r.entries, bindAtomic)).toEqual([]);
    const dropped = r.entries.filter((e) => e.type !== 'svm.bound');
    expect(messages(dropped, bindAtomic)).toEqual(['BIND_PGTBL of VM vm1 (hpasid 2) returned 0 but mdev1 of group mdev1 (container vm1) was not bound']);
  });
});
