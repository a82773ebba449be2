import { describe, expect, it } from 'vitest';
import { ERRNO, type Envelope } from '../../libs/contracts/src/index.js';
import { DECIDERS } from '../../libs/domain/src/index.js';
import { run, scenarioOutcomes } from './support.js';

const one = (extra = '') => `
name: t
description: d
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }${extra}]
vms: [{ id: vm1, mdevs: [{ id: m1, parent: dsa0 }] }]
`;

/** Every errno the model returns, each reached by some input (DOMAIN.md §2, §3). */
describe('errnos', () => {
  const reached = new Set<string>();
  const note = (results: string[]) => results.forEach((r) => reached.add(r));

  it('PASID_REQUEST: -EINVAL (bad argsz, flags, range), -ENOSPC (quota, space), -EFAULT (v1), -ENOTSUPP (v3, no vfio_mm)', async () => {
    const sc = `${one()}steps:
  - { op: ioctl_pasid_request, vm: vm1, argsz: 8 }
  - { op: ioctl_pasid_request, vm: vm1, flags: 3 }
  - { op: ioctl_pasid_request, vm: vm1, min: 9, max: 3 }
  - { op: pasid_alloc, vm: vm1, min: 1, max: 1 }
  - { op: pasid_alloc, vm: vm1, count: 3 }
`;
    const r = scenarioOutcomes(await run(sc, 'mainline', { 'vfio.pasid_quota': 2 }));
    expect(r).toEqual(['EINVAL', 'EINVAL', 'EINVAL', 'ENOSPC', 'ENOSPC']);
    note(r);
    note(scenarioOutcomes(await run(sc, 'v1', { 'vfio.pasid_quota': 2 })).slice(3));
    expect(reached.has('EFAULT')).toBe(true);
    note(scenarioOutcomes(await run('scenarios/enotsupp-leak-nesting-op.yaml', 'v3')));
    expect(reached.has('ENOTSUPP')).toBe(true);
  });

  it('BIND_PGTBL: each check of intel_svm_bind_gpasid / setup_nested, -ENOENT and -EACCES (v7), -EBUSY, -EOPNOTSUPP', async () => {
    const sc = `
name: t
description: d
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }, { id: dsa1, kind: iommu-backed, rid: "6b:01.0" }]
vms: [{ id: vm1, mdevs: [{ id: m1, parent: dsa0 }] }, { id: vm2, mdevs: [{ id: m2, parent: dsa1 }] }]
steps:
  - { op: pasid_alloc, vm: vm1, as: p }
  - { op: pasid_alloc, vm: vm2, as: q }
  - { op: ioctl_bind, vm: vm1, hpasid: $p, argsz: 40 }
  - { op: ioctl_bind, vm: vm1, hpasid: $p, version: 2 }
  - { op: ioctl_bind, vm: vm1, hpasid: $p, format: 2 }
  - { op: ioctl_bind, vm: vm1, hpasid: $p, flags: 6 }
  - { op: ioctl_bind, vm: vm1, hpasid: $p, vtd_flags: 128 }
  - { op: ioctl_bind, vm: vm1, hpasid: 0 }
  - { op: ioctl_bind, vm: vm1, hpasid: 1048576 }
  - { op: ioctl_bind, vm: vm1, hpasid: $p, addr_width: 39 }
  - { op: ioctl_bind, vm: vm1, hpasid: $p, addr_width: 57 }
  - { op: ioctl_bind, vm: vm1, hpasid: $p, vtd_flags: 4 }
  - { op: ioctl_bind, vm: vm1, hpasid: 999 }
  - { op: ioctl_bind, vm: vm1, hpasid: $q }
  - { op: ioctl_bind, vm: vm1, hpasid: $p, op_argsz: 4 }
  - { op: ioctl_bind, vm: vm1, hpasid: $p }
  - { op: ioctl_bind, vm: vm1, hpasid: $p }
  - { op: bind, vm: vm1, pasid: $p, gpgd: 0x1000, pgtt: 2 }
`;
    const r = scenarioOutcomes(await run(sc, 'v7'));
    expect(r.slice(2)).toEqual(['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'ENOENT', 'EACCES', 'EINVAL', 'ok', 'EBUSY', 'EINVAL']);
    note(r);
    const ext = scenarioOutcomes(await run('scenarios/non-iommu-mdev-external-domain.yaml', 'v7'));
    expect(ext).toContain('EOPNOTSUPP');
    note(ext);
  });

  it('CACHE_INVLD: -EINVAL (malformed), -ERANGE (misaligned PSI, v5.8), -ENODEV (NULL device, v1), and the unsupported-combination quirk', async () => {
    const sc = `${one()}steps:
  - { op: pasid_alloc, vm: vm1, as: p }
  - { op: bind, vm: vm1, pasid: $p, gpgd: 0x1000 }
  - { op: ioctl_invalidate, vm: vm1, pasid: $p, version: 3 }
  - { op: ioctl_invalidate, vm: vm1, pasid: $p, cache: 8 }
  - { op: ioctl_invalidate, vm: vm1, pasid: $p, granularity: 3 }
  - { op: ioctl_invalidate, vm: vm1, pasid: $p, flags: 16 }
  - { op: ioctl_invalidate, vm: vm1, pasid: $p, granularity: 2, addr: 0x1000, nb_granules: 2 }
  - { op: ioctl_invalidate, vm: vm1, pasid: $p, cache: 2, granularity: 1 }
  - { op: ioctl_invalidate, vm: vm1, pasid: $p, granularity: 2, addr: 0x2000, nb_granules: 2 }
  - { op: mdev_clear_iommu_device, mdev: m1 }
  - { op: ioctl_invalidate, vm: vm1, pasid: $p }
`;
    const v1 = scenarioOutcomes(await run(sc, 'v1'));
    expect(v1.slice(2)).toEqual(['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'ERANGE', 'ok', 'ok', 'ok', 'ENODEV']);
    note(v1);
    const fixed = scenarioOutcomes(await run(sc, 'mainline', { 'vtd.unsupported_inval': 'EINVAL' }));
    expect(fixed.slice(2, 8)).toEqual(['EINVAL', 'EINVAL', 'EINVAL', 'EINVAL', 'ok', 'EINVAL']);
  });

  it('devices: -ENODEV after a surprise removal, -EFAULT for a DMA that faults, attach -EINVAL in a singleton container', async () => {
    const sc = `${one()}steps:
  - { op: pasid_alloc, vm: vm1, as: p }
  - { op: dma, mdev: m1, pasid: $p, va: 0x1000 }
  - { op: device_remove, parent: dsa0 }
  - { op: dma, mdev: m1, pasid: $p, va: 0x1000 }
`;
    const r = scenarioOutcomes(await run(sc, 'mainline'));
    expect(r).toEqual(['ok', 'EFAULT', 'ok', 'ENODEV']);
    note(r);
  });

  it('a dead host answers -EIO with the oops', () => {
    const host = DECIDERS['host-vtd'];
    const s = { ...(host.initialState() as object), oops: { fn: 'intel_svm_bind_gpasid' } };
    const env: Envelope = { runId: 'r', id: 'x', type: 'ioasid_alloc', from: 'vfio-type1', to: 'host-vtd', causationId: null, correlationId: 'r', lamport: 1, payload: { set: 'vm1', min: 1, max: 9, tag: 't' } };
    const out = host.decide(s, env);
    expect(out[0]).toMatchObject({ kind: 'command', payload: { ret: -ERRNO.EIO, oops: 'intel_svm_bind_gpasid' } });
    reached.add('EIO');
  });

  it('every errno of the table is one the model returns', () => {
    expect([...reached].filter((r) => r !== 'ok' && r !== 'oops').sort()).toEqual(Object.keys(ERRNO).sort());
  });
});
