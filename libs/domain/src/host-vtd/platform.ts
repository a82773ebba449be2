import { completeStep } from '../request-reply.js';
import { vmBase } from '../topology.js';
import { evt, type HostInputOf, type HostOut } from './state.js';

/** The IOMMU unit's name in the kernel's messages (iommu->name): the model has one. */
export const IOMMU = 'dmar0';

/** PCI_DEVID(bus, devfn) of a requester id "bb:dd.f", the source id the hardware reports; 0 for a malformed one (a decider never throws). */
export function sourceId(rid: string): number {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(String(rid));
  return m ? (parseInt(m[1]!, 16) << 8) | (parseInt(m[2]!, 16) << 3) | parseInt(m[3]!, 10) : 0;
}

/** The machine at boot: the devices behind the IOMMU (the DMAR tables), the VMs' RAM, the policy. */
export function hostConfigure(input: HostInputOf<'run.open'>): HostOut[] {
  const o = input.payload;
  const devices = Object.fromEntries(o.topology.parents.filter((x) => x.kind === 'iommu-backed').map((x) => [x.rid!, { parent: x.id, ats: x.ats, pri: x.pri, pasidBits: x.pasid_bits ?? 20, aux: x.aux ?? true }]));
  const vms = Object.fromEntries(o.topology.vms.map((v) => [v.id, { base: vmBase(o.topology, v.id), ram: v.ram_pages ?? 4096 }]));
  return [evt('host.configured', { host: o.topology.host, devices, vms, pasidMax: 2 ** (o.topology.host.pasid_bits ?? 20), policy: o.policy })];
}

/** pciehp: the device is gone; the mdev parent that saw it go ran a scenario step, completed here. */
export function pciSurpriseRemoval(input: HostInputOf<'pci_surprise_removal'>): HostOut[] {
  const p = input.payload;
  return [
    evt('device.absent', { rid: p.rid }),
    // pciehp_handle_presence_or_link_change, as ctrl_info prints it (the slot named by the device here)
    evt('dmesg', { level: 'info', fn: 'pciehp_handle_presence_or_link_change', text: `pciehp: Slot(${p.rid}): Link Down` }),
    evt('dmesg', { level: 'info', fn: 'pciehp_handle_presence_or_link_change', text: `pciehp: Slot(${p.rid}): Card not present` }),
    ...(typeof p.step === 'number' ? [completeStep(p.step, { ret: 0 })] : []),
  ];
}
