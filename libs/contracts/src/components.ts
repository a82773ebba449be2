/** The services of the cluster; each owns one decider (libs/domain). */
export const COMPONENTS = ['orchestrator', 'guest-viommu', 'vfio-type1', 'mdev-parent', 'host-vtd'] as const;
export type Component = (typeof COMPONENTS)[number];

/** Short lane labels for the timeline. */
export const LANE: Record<Component, string> = {
  orchestrator: 'orch',
  'guest-viommu': 'guest',
  'vfio-type1': 'vfio',
  'mdev-parent': 'mdev',
  'host-vtd': 'host',
};

export function isComponent(s: unknown): s is Component {
  return typeof s === 'string' && (COMPONENTS as readonly string[]).includes(s);
}
