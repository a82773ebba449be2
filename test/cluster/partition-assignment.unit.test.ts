import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assignPartitions, partitionsOfSlot } from '../../libs/cluster/src/partitions/assignment.js';

describe('partition assignment', () => {
  it('goes round the live slots in ascending order', () => {
    expect(Object.fromEntries(assignPartitions([3, 0], 4))).toEqual({ 0: [0, 2], 3: [1, 3] });
    expect(partitionsOfSlot([0, 1, 2], 4, 1)).toEqual([1]);
    // a slot that is not live gets nothing; no live slot: nobody gets anything
    expect(partitionsOfSlot([0, 1], 4, 5)).toEqual([]);
    expect(assignPartitions([], 4).size).toBe(0);
  });

  it('every partition has exactly one slot, shares differ by at most one, and every replica computes the same', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 16 }), fc.integer({ min: 1, max: 64 }), (slots, n) => {
      const a = assignPartitions(slots, n);
      const all = [...a.values()].flat().sort((x, y) => x - y);
      expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
      const sizes = [...a.values()].map((ps) => ps.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      // the order a replica read the slots in does not matter
      expect(assignPartitions([...slots].reverse(), n)).toEqual(a);
    }));
  });
});
