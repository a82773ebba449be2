import type { Scenario } from '../../../scenario/src/index.js';
import type { TopologyOdds } from './swarm.js';
import type { Rand } from './rand.js';

/** A scenario's topology: everything but its steps and workload. */
export type Topology = Pick<Scenario, 'host' | 'parents' | 'vms'>;

const rid = (i: number) => `${(0x6a + i).toString(16)}:01.0`;

/**
 * Draws the machine a program runs on: parents IOMMU-backed (DSA, ice SIOV) or not (GVT-g), with
 * their ATS/PRI/PASID width/aux knobs; VMs with nesting or plain type1v2 containers, their mdevs on
 * any parent, groups of one mdev or shared (the mixed group of bug 18), setup by steps (manual) or
 * before step 0; the host's PASID width (small ones make the space scarce, bug 13) and its PRQ thread
 * held (manual) so page requests wait in the queue (bug 10).
 */
export function drawTopology(r: Rand, o: TopologyOdds): Topology {
  const knob = (p: number) => r.chance(p);
  const parents: Topology['parents'] = [];
  const nParents = r.int(1, o.parents);
  for (let i = 0; i < nParents; i++) {
    const nonIommu = i > 0 || nParents === 1 ? knob(o.nonIommuParent) : false;
    parents.push(nonIommu
      ? { id: `gvt${i}`, kind: 'non-iommu', ats: true, pri: true, pasid_bits: 20, aux: true }
      : {
        id: `dsa${i}`, kind: 'iommu-backed', rid: rid(i),
        ats: !knob(o.parentKnob / 2), pri: !knob(o.parentKnob / 2),
        pasid_bits: knob(o.parentKnob / 2) ? r.pick([0, 8, 19]) : 20,
        aux: !knob(o.parentKnob),
      });
  }
  const vms: Topology['vms'] = [];
  let m = 0;
  const nVms = r.int(1, o.vms);
  for (let v = 1; v <= nVms; v++) {
    const manual = knob(o.manualSetup);
    const mdevs: Topology['vms'][number]['mdevs'] = [];
    const n = r.int(1, o.mdevsPerVm);
    const vmId = `vm${v}`;
    const free = parents.filter((p) => oneVmFits(vms, p, vmId));
    // a VM whose mdev could not attach could not start: with no parent free for it, no more VMs
    if (!free.length) break;
    for (let k = 0; k < n; k++) {
      const parent = r.pick(free);
      const id = parent.kind === 'non-iommu' ? `vgpu${++m}` : `mdev${++m}`;
      const group = mdevs.length && knob(o.sharedGroup) ? (mdevs[mdevs.length - 1]!.group ?? mdevs[mdevs.length - 1]!.id) : undefined;
      mdevs.push({
        id, parent: parent.id, ...(group ? { group } : {}),
        ...(manual ? { attach: 'manual' as const, ...(knob(0.5) ? { create: 'manual' as const } : {}) } : {}),
      });
    }
    // a group named by a later mdev is named on the first too, so the group is one
    for (const md of mdevs) if (!md.group && mdevs.some((x) => x.group === md.id)) md.group = md.id;
    vms.push({
      id: vmId, nesting: !knob(o.hostKnob), mdevs, ram_pages: 4096,
      page_requests: knob(o.hostKnob / 2) ? 'ignore' : 'respond',
      ...(manual && knob(0.5) ? { set_iommu: 'manual' as const } : {}),
    });
  }
  const host: Topology['host'] = {
    caching_mode: knob(o.hostKnob / 2),
    ecap: { nest: !knob(o.hostKnob / 4), srs: !knob(o.hostKnob / 4), eafs: !knob(o.hostKnob / 4), pasid: !knob(o.hostKnob / 4), prs: !knob(o.hostKnob / 4), pds: !knob(o.hostKnob / 4) },
    cap_5lp: false, la57: false,
    pasid_bits: knob(o.hostKnob) ? r.pick([3, 4, 6]) : 20,
    prq_irq: knob(o.hostKnob * 2) ? 'manual' : 'auto',
  };
  return { host, parents, vms };
}

/**
 * An IOMMU-backed parent without aux domains (a wrapped PF, attached with iommu_attach_device) serves
 * one domain: the kernel refuses a second attach with -EBUSY, so its mdevs are all in one VM.
 */
export function oneVmFits(vms: Topology['vms'], p: Topology['parents'][number], vm: string): boolean {
  return p.kind !== 'iommu-backed' || p.aux !== false || vms.every((x) => x.id === vm || !x.mdevs.some((m) => m.parent === p.id));
}

/** Whether `p` may be without aux domains: its mdevs are in one VM at most. */
export const auxOffFits = (vms: Topology['vms'], p: Topology['parents'][number]) => new Set(vms.filter((v) => v.mdevs.some((m) => m.parent === p.id)).map((v) => v.id)).size <= 1;
