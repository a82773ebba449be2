import type { Rand } from './rand.js';
import type { GenState } from './state.js';

/** How one argument is drawn: a value the kernel takes, one at the edge of what it takes, or one it must refuse. */
export type Mode = 'valid' | 'boundary' | 'invalid';

/** The odds of each mode, from the run's swarm configuration. */
export interface ModeOdds {
  valid: number;
  boundary: number;
}

export function drawMode(r: Rand, o: ModeOdds): Mode {
  const x = r.float();
  return x < o.valid ? 'valid' : x < o.valid + o.boundary ? 'boundary' : 'invalid';
}

/** An argument's three ways of being drawn. */
export interface ArgDraw<T> {
  valid: (r: Rand) => T;
  boundary: (r: Rand) => T;
  invalid: (r: Rand) => T;
}

export function arg<T>(r: Rand, o: ModeOdds, d: ArgDraw<T>): T {
  return d[drawMode(r, o)](r);
}

const PAGE = 0x1000;
/** A few page-table roots, VAs and GPAs: a small pool, so that programs collide on the same pages as real bugs need. */
export const ROOTS = [0x100000, 0x200000, 0x345000];
export const VAS = [0x400000, 0x500000, 0x600000];
export const GPAS = [0x10000, 0x20000, 0x30000];

export const pasidMax = (s: GenState) => 2 ** s.topo.host.pasid_bits;

/**
 * A PASID argument of a step of `vm`: valid, a variable of its own VM still allocated; boundary, a
 * freed one, 0 or the last PASID of the space; invalid, another VM's (the cross-VM misuse of bug 12)
 * or a number nobody allocated.
 */
export function pasidArg(r: Rand, o: ModeOdds, s: GenState, vm: string | undefined): number | string {
  const own = s.vars.filter((v) => (vm === undefined || v.vm === vm) && !v.freed);
  const freed = s.vars.filter((v) => (vm === undefined || v.vm === vm) && v.freed);
  const foreign = s.vars.filter((v) => vm !== undefined && v.vm !== vm);
  const mode = drawMode(r, o);
  if (mode === 'valid' && own.length) return `$${r.pick(own).name}`;
  if (mode === 'boundary') return freed.length && r.chance(0.5) ? `$${r.pick(freed).name}` : r.pick([0, pasidMax(s) - 1]);
  if (mode === 'invalid' && foreign.length && r.chance(0.7)) return `$${r.pick(foreign).name}`;
  return own.length && mode === 'valid' ? `$${r.pick(own).name}` : r.int(1, 200);
}

/**
 * A PASID a device of `vm` presents: one its VM bound (mostly: the DMA then walks the guest's tables),
 * else one it allocated (freed ones too), else 0 (the default PASID, or none). Never a number nobody
 * allocated: the vendor driver programs the device's PASIDs, so an mdev cannot present an arbitrary
 * host PASID (fault_storm is the operation for a PASID with no entry).
 */
export function devicePasid(r: Rand, s: GenState, vm: string): number | string {
  const bound = s.roots.filter((x) => x.vm === vm);
  if (bound.length && r.chance(0.7)) return r.pick(bound).pasid;
  const mine = s.vars.filter((v) => v.vm === vm);
  return mine.length && r.chance(0.8) ? `$${r.pick(mine).name}` : 0;
}

/** A PASID argument of a guest operation on what the VM bound (invalidate, unbind): mostly a bound one. */
export function boundPasidArg(r: Rand, o: ModeOdds, s: GenState, vm: string): number | string {
  const bound = s.roots.filter((x) => x.vm === vm);
  return bound.length && r.chance(0.7) ? r.pick(bound).pasid : pasidArg(r, o, s, vm);
}

export const pageAligned: ArgDraw<number> = {
  valid: (r) => r.pick(GPAS),
  boundary: (r) => r.pick([0, 4095 * PAGE]),
  invalid: (r) => r.pick([0x10001, 4096 * PAGE, 0x7fff_f000]),
};
