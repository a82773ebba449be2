export type { RunOpen, Topology } from '../../contracts/src/index.js';

/** 20-bit PASID space (PASID_MAX 0x100000). */
export const PASID_MAX = 0x100000;

/** Where a VM's RAM sits in host physical memory, in pages: VMs never overlap (dma-isolation reads it). */
export const VM_SPAN_PAGES = 1 << 20;
export function vmBase(topo: { vms: Array<{ id: string }> }, vm: string): number {
  const i = topo.vms.findIndex((v) => v.id === vm);
  return (i + 1) * VM_SPAN_PAGES;
}
/** The VM whose RAM holds host page `hpa`, or null (host memory). */
export function vmOfHpa(topo: { vms: Array<{ id: string }> }, hpa: number): string | null {
  const i = Math.floor(hpa / VM_SPAN_PAGES) - 1;
  return topo.vms[i]?.id ?? null;
}

export const pageOf = (addr: number): number => Math.floor(addr / 4096);
