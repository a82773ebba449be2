import type { ScenarioDoc } from '../../../scenario/src/index.js';

/** How big a scenario is, in what a reader counts. */
export interface Size {
  steps: number;
  vms: number;
  mdevs: number;
  parents: number;
  workload: number;
}

export function sizeOf(doc: Pick<ScenarioDoc, 'steps' | 'vms' | 'parents' | 'workload'>): Size {
  return {
    steps: doc.steps.length,
    vms: doc.vms.length,
    mdevs: doc.vms.reduce((n, vm) => n + vm.mdevs.length, 0),
    parents: doc.parents.length,
    workload: doc.workload?.length ?? 0,
  };
}

/** `steps 12 -> 5, VMs 2 -> 1, ...`: each count before and after. */
export function formatSizes(before: Size, after: Size): string {
  const label: Record<keyof Size, string> = { steps: 'steps', vms: 'VMs', mdevs: 'mdevs', parents: 'parents', workload: 'workload entries' };
  return (Object.keys(label) as Array<keyof Size>).map((k) => `${label[k]} ${before[k]} -> ${after[k]}`).join(', ');
}
