import { sorted, type Checker, type Violation } from './types.js';

/**
 * A DMA with (RID, PASID) translates only through tables of the VM that owns that PASID and device,
 * never into another VM's memory; every page request is reported to the VM that owns the (RID, PASID)
 * (DOMAIN.md §6; bugs #10, #11, #12).
 */
export const dmaIsolation: Checker = {
  name: 'dma-isolation',
  check(h) {
    const out: Violation[] = [];
    // the machine's memory map is fixed when it boots, not when host-vtd gets to its run.open: a run whose
    // devices never call the host (non-IOMMU mdevs) may see it consume run.open last (found by chaos:
    // host-vtd paused at the start, a vGPU's DMA to its own pinned memory judged "host memory")
    const spans: Array<{ vm: string; base: number; ram: number }> = [];
    for (const e of h.entries) {
      if (e.kind === 'event' && e.component === 'host-vtd' && e.type === 'host.configured') {
        for (const [vm, r] of Object.entries(e.payload.vms)) spans.push({ vm, ...r });
        break;
      }
    }
    const owner = new Map<number, string>();
    const mdevVm = new Map<string, string>();
    const memOf = (hpa: number) => spans.find((s) => hpa >= s.base && hpa < s.base + s.ram)?.vm ?? null;
    for (const e of h.entries) {
      if (e.kind !== 'event') continue;
      if (e.component === 'host-vtd') {
        if (e.type === 'ioasid.allocated') owner.set(e.payload.pasid, e.payload.set);
        else if (e.type === 'ioasid.freed') owner.delete(e.payload.pasid);
        else if (e.type === 'page_request.reported') {
          const p = e.payload;
          const vm = mdevVm.get(p.mdev);
          if (vm && vm !== p.vm) out.push({ invariant: 'dma-isolation', message: `a page request of ${p.mdev} (VM ${vm}) on PASID ${p.pasid} was reported to VM ${p.vm}`, events: h.chain(e, 5) });
        }
      } else if (e.component === 'mdev-parent') {
        if (e.type === 'mdev.created') mdevVm.set(e.payload.mdev, e.payload.vm);
        else if (e.type === 'dma.completed') {
          const p = e.payload;
          const vm = p.vm;
          const mem = memOf(p.hpa);
          const o = owner.get(p.pasid);
          if (mem !== vm) {
            out.push({ invariant: 'dma-isolation', message: `DMA of ${p.mdev} (VM ${vm}) with PASID ${p.pasid} at va 0x${p.va.toString(16)} reached ${mem ? `VM ${mem}'s` : 'host'} memory (HPA page 0x${p.hpa.toString(16)})`, events: sorted(h.chain(e, 4)) });
          } else if (p.rid && o && o !== 'host' && o !== vm) {
            out.push({ invariant: 'dma-isolation', message: `DMA of ${p.mdev} (VM ${vm}) translated through PASID ${p.pasid}, which VM ${o} owns`, events: sorted(h.chain(e, 4)) });
          }
        }
      }
    }
    return out;
  },
};
