import { prgKey, sorted, type Checker, type Violation } from './types.js';

/**
 * A DMA with (RID, PASID) translates only through tables of the VM that owns that PASID and device,
 * never into another VM's memory; every page request is reported to the VM that owns the (RID, PASID)
 * (DOMAIN.md §6; bugs #10, #11, #12).
 *
 * The mdevs of one parent share its RID, so the IOMMU tells them apart by PASID alone: a device that
 * presents a PASID its VM does not own at the time (another VM's, another mdev's default PASID, one
 * its VM freed or never had) is translated and routed as that PASID's, rightly. That is the device's
 * (or its guest driver's) doing, not the host's, and is not judged here; what the host did with a
 * PASID while its VM owned it is (a stale request of a freed PASID reaching its next owner, bug #10).
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
    // aux domains' default PASIDs (allocated in the host's set) are their mdev's VM's
    const auxDefault = new Map<number, string>();
    const auxOf = new Map<string, number>();
    const vmOf = (pasid: number) => auxDefault.get(pasid) ?? owner.get(pasid);
    // the VM that owned each page request's PASID when the device issued it
    const ownerAtIssue = new Map<string, string | undefined>();
    const foreign = (pasid: number, vm: string, at: string | undefined) => pasid !== 0 && at !== vm;
    const memOf = (hpa: number) => spans.find((s) => hpa >= s.base && hpa < s.base + s.ram)?.vm ?? null;
    for (const e of h.entries) {
      if (e.kind !== 'event') continue;
      if (e.component === 'host-vtd') {
        if (e.type === 'ioasid.allocated') owner.set(e.payload.pasid, e.payload.set);
        else if (e.type === 'ioasid.freed') owner.delete(e.payload.pasid);
        else if (e.type === 'aux.attached') {
          auxDefault.set(e.payload.defaultPasid, e.payload.vm);
          auxOf.set(e.payload.mdev, e.payload.defaultPasid);
        } else if (e.type === 'aux.detached') {
          const d = auxOf.get(e.payload.mdev);
          if (d !== undefined) auxDefault.delete(d);
          auxOf.delete(e.payload.mdev);
        } else if (e.type === 'page_request.reported') {
          const p = e.payload;
          const vm = mdevVm.get(p.mdev);
          const k = prgKey(p);
          if (vm && vm !== p.vm && !(ownerAtIssue.has(k) && foreign(p.pasid, vm, ownerAtIssue.get(k)))) out.push({ invariant: 'dma-isolation', message: `a page request of ${p.mdev} (VM ${vm}) on PASID ${p.pasid} was reported to VM ${p.vm}`, events: h.chain(e, 5) });
        }
      } else if (e.component === 'mdev-parent') {
        if (e.type === 'mdev.created') mdevVm.set(e.payload.mdev, e.payload.vm);
        else if (e.type === 'page_request.issued') ownerAtIssue.set(prgKey(e.payload), vmOf(e.payload.pasid));
        else if (e.type === 'dma.completed') {
          const p = e.payload;
          const vm = p.vm;
          const mem = memOf(p.hpa);
          if (p.rid && foreign(p.pasid, vm, vmOf(p.pasid))) continue;
          if (mem !== vm) {
            out.push({ invariant: 'dma-isolation', message: `DMA of ${p.mdev} (VM ${vm}) with PASID ${p.pasid} at va 0x${p.va.toString(16)} reached ${mem ? `VM ${mem}'s` : 'host'} memory (HPA page 0x${p.hpa.toString(16)})`, events: sorted(h.chain(e, 4)) });
          }
        }
      }
    }
    return out;
  },
};
