import type { History } from './types.js';

/**
 * The invalidation calls (by correlation id) whose cache type x granularity the driver's map left
 * unsupported, named `<cache> x <granularity>`: the loop breaks with 0, bug #5 (DOMAIN.md §2.4).
 */
export function unsupportedInvalidations(h: History): Map<string, string> {
  return new Map(h.events('host-vtd', 'sva_invalidate.unsupported').map((e) => [e.correlationId, `${e.payload.cache} x ${e.payload.granularity}`]));
}
