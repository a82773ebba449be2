import type { TypedEntry } from './types.js';

/**
 * Which binding went through an mdev that later lost its IOMMU device (the fault model's
 * mdev_clear_iommu_device): VFIO names devices to the IOMMU layer through vfio_mdev_get_iommu_device
 * (DOMAIN.md §3), so it can no longer name such an mdev, and the guest's unbind never reaches the host.
 * Fed every entry in log order; asked at any point of the history.
 */
export class LostIommuDevices {
  /** the mdev each (device, PASID) was bound through */
  private readonly boundVia = new Map<string, string>();
  private readonly lost = new Set<string>();

  observe(e: TypedEntry): void {
    if (e.kind !== 'event') return;
    if (e.component === 'mdev-parent' && e.type === 'mdev.iommu_device_cleared') this.lost.add(e.payload.mdev);
    else if (e.component === 'host-vtd' && e.type === 'svm.bound' && e.payload.mdev) this.boundVia.set(`${e.payload.dev}|${e.payload.hpasid}`, e.payload.mdev);
  }

  /** The mdev (device, PASID) was bound through, when it has lost its IOMMU device since. */
  lostVia(dev: string, pasid: number): string | undefined {
    const m = this.boundVia.get(`${dev}|${pasid}`);
    return m !== undefined && this.lost.has(m) ? m : undefined;
  }
}

/** The words every checker uses for it, so that one documented quirk (libs/explore quirks.ts) matches them all. */
export const lostWhileBound = (mdevs: string) => `${mdevs} lost its IOMMU device while bound (mdev_clear_iommu_device)`;
