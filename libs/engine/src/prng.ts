/** mulberry32: a small, fast, seedable PRNG; the embedded scheduler's only source of choice. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Another stream of the same seed (`prng(seed)` is the scheduler's): the seed and the stream's number
 * mixed (murmur3's finaliser), so that drawing from one stream never moves the other. The faults draw
 * from stream 1: turning them on leaves the scheduling draws as they were.
 */
export function prngStream(seed: number, stream: number): () => number {
  let h = (seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return prng((h ^ (h >>> 16)) >>> 0);
}
