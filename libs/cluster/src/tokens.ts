/** Nest injection tokens of a cluster service. */
export const RUN_LOG = Symbol('RUN_LOG');
export const CLUSTER_CONFIG = Symbol('CLUSTER_CONFIG');
