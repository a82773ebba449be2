/**
 * Where explore runs wait in Redis: one BullMQ queue under a prefix of its own (never a cluster's),
 * shared by every exploration on that Redis: an explore-worker serves whichever exploration adds
 * jobs, and each exploration's job ids (`<exploration>-<index>`) route its results back.
 */
export const EXPLORE_PREFIX = 'vsva-explore';
export const EXPLORE_QUEUE = 'runs';

export const exploreJobId = (exploration: string, index: number) => `${exploration}-${index}`;
