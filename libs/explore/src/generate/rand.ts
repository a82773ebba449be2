import { prngStream } from '../../../engine/src/index.js';

/** The draws a generator makes, over one seeded stream (a run's program is a function of its seed). */
export class Rand {
  private readonly next: () => number;
  constructor(seed: number, stream = 7) {
    this.next = prngStream(seed, stream);
  }
  float(): number {
    return this.next();
  }
  /** an integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (!xs.length) throw new RangeError('pick from nothing');
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** an index drawn in proportion to its weight (all zero: uniform) */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    if (total <= 0) return Math.floor(this.next() * weights.length);
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
  /** a 31-bit seed for something downstream */
  seed(): number {
    return Math.floor(this.next() * 0x7fffffff);
  }
}
