/**
 * Which partitions each live replica of a service should consume: partition i goes to the
 * (i mod n)-th live slot in ascending order. Every replica computes it from the same list of slot
 * leases, so they agree without talking to each other; while the list is changing they may briefly
 * disagree, and the partition leases decide (a partition has one holder whatever anyone wants).
 */
export function assignPartitions(liveSlots: readonly number[], partitions: number): Map<number, number[]> {
  const slots = [...new Set(liveSlots)].sort((a, b) => a - b);
  const out = new Map<number, number[]>(slots.map((s) => [s, []]));
  if (!slots.length) return out;
  for (let p = 0; p < partitions; p++) out.get(slots[p % slots.length]!)!.push(p);
  return out;
}

/** The partitions one slot should consume (none when it is not among the live ones). */
export function partitionsOfSlot(liveSlots: readonly number[], partitions: number, slot: number): number[] {
  return assignPartitions(liveSlots, partitions).get(slot) ?? [];
}
