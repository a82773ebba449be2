import { ERRNO, type Envelope } from '../../../contracts/src/index.js';
import { cmd, evt, put, reply, type Decider, type Output } from '../decider.js';
import type { RunOpen, Topology } from '../topology.js';

/**
 * Parent drivers and their mdevs. An IOMMU-backed parent (DSA, ice SIOV) marks each mdev with
 * mdev_set_iommu_device(mdev, parent); a non-IOMMU parent (GVT-g, mtty) never does, so VFIO's
 * vfio_mdev_get_iommu_device() returns NULL for it.
 */
export interface MdevParentState {
  parents: Record<string, Topology['parents'][number]>;
  mdevs: Record<string, { parent: string; vm: string; iommuDevice: string | null }>;
}

const done = (input: Envelope, ret: number, extra: Record<string, unknown> = {}): Output =>
  cmd('orchestrator', 'step.completed', { step: (input.payload as { step: number }).step, outcome: { ret, ...extra } });

export const mdevParentDecider: Decider<MdevParentState> = {
  component: 'mdev-parent',
  initialState: () => ({ parents: {}, mdevs: {} }),

  decide(s, input): Output[] {
    const p = input.payload as Record<string, unknown>;
    switch (input.type) {
      case 'run.open':
        return [evt('parents.probed', { parents: (p as unknown as RunOpen).topology.parents })];
      case 'step.mdev_create': {
        const parent = s.parents[p.parent as string];
        if (!parent) return [done(input, -ERRNO.ENODEV)];
        if (s.mdevs[p.mdev as string]) return [done(input, -ERRNO.EBUSY)];
        const iommuDevice = parent.kind === 'iommu-backed' ? parent.rid! : null;
        return [evt('mdev.created', { mdev: p.mdev, parent: parent.id, vm: p.vm, iommuDevice }), done(input, 0)];
      }
      case 'step.mdev_clear_iommu_device': {
        if (!s.mdevs[p.mdev as string]) return [done(input, -ERRNO.ENODEV)];
        return [evt('mdev.iommu_device_cleared', { mdev: p.mdev, was: s.mdevs[p.mdev as string]!.iommuDevice }), done(input, 0)];
      }
      case 'vfio_mdev_get_iommu_device': {
        const m = s.mdevs[p.mdev as string];
        // an unknown mdev is not a struct mdev_device at all: NULL, as for a non-IOMMU one
        return [reply(input, { ret: 0, value: m?.iommuDevice ?? null })];
      }
      default:
        return [evt('ignored', { why: `mdev-parent has no handler for ${input.type}` })];
    }
  },

  evolve(s, o): MdevParentState {
    if (o.kind !== 'event') return s;
    const p = o.payload;
    switch (o.type) {
      case 'parents.probed':
        return { ...s, parents: Object.fromEntries((p.parents as Topology['parents']).map((x) => [x.id, x])) };
      case 'mdev.created':
        return { ...s, mdevs: put(s.mdevs, p.mdev as string, { parent: p.parent as string, vm: p.vm as string, iommuDevice: p.iommuDevice as string | null }) };
      case 'mdev.iommu_device_cleared':
        return { ...s, mdevs: put(s.mdevs, p.mdev as string, { ...s.mdevs[p.mdev as string]!, iommuDevice: null }) };
      default:
        return s;
    }
  },
};
