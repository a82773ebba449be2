import type { ErrnoName, PolicyValues } from '../../../contracts/src/index.js';

/**
 * What a uAPI struct rule says of one input: the kernel's own checks refuse it, let it through, or
 * decide on something the struct does not show (a host capability, the host's PASID space), which the
 * checker then does not judge.
 */
export type RuleOutcome = 'reject' | 'accept' | 'unknown';

/**
 * The run's resolved policy values (h.policy()): rules that differ by preset read them; and the host's
 * PASID space (`pasidMax`, 1 << host.pasid_bits, from host.configured), which a run may make smaller
 * than the kernel's 20 bits.
 */
export type Policy = Partial<PolicyValues> & { pasidMax?: number };

/**
 * One input rule of a uAPI struct, read from DOMAIN.md apart from the deciders (libs/domain), so the
 * checker holds two independent readings against each other. A rule is data a reviewer can check
 * line by line against its section: the check, the errno, and where the kernel makes it.
 */
export interface UapiRule<I> {
  /** `struct.field`, as a violation names it */
  id: string;
  /** where DOMAIN.md says it (§7 supersedes what it names) */
  section: string;
  /** the check, in the kernel's words */
  says: string;
  /** the errno the kernel returns when this check refuses the input */
  errno: ErrnoName;
  /**
   * `early`: checked before any state (the ioctl's own checks, the IOMMU core's copy of the user struct,
   * the driver's struct checks that follow `!iommu`): a refusal is exactly `errno`. `late`: checked after
   * state checks (device, domain, PASID ownership, -EBUSY): a refusal may carry one of their errnos.
   */
  stage: 'early' | 'late';
  /** the errnos of the state checks the kernel makes before a `late` rule (DOMAIN.md's order) */
  after?: readonly ErrnoName[];
  /** the rule holds only in runs whose policy says so (absent: in every run) */
  when?: (p: Policy) => boolean;
  judge: (input: I, p: Policy) => RuleOutcome;
}

/** The rules one input breaks, and whether any rule could not tell. */
export interface Judgement<I> {
  rejected: UapiRule<I>[];
  unknown: UapiRule<I>[];
}

/** Judges an input against a struct's rules under the run's policy. */
export function judge<I>(rules: readonly UapiRule<I>[], input: I, p: Policy): Judgement<I> {
  const out: Judgement<I> = { rejected: [], unknown: [] };
  for (const r of rules) {
    if (r.when && !r.when(p)) continue;
    const o = r.judge(input, p);
    if (o === 'reject') out.rejected.push(r);
    else if (o === 'unknown') out.unknown.push(r);
  }
  return out;
}

/**
 * The errnos a kernel may answer an input the rules refuse: exactly the errno of an `early` rule when
 * one refuses it (every early check precedes every state check), else any refusing late rule's errno
 * or the errnos of the state checks before it.
 */
export function expectedErrnos<I>(j: Judgement<I>): Set<ErrnoName> {
  const early = j.rejected.filter((r) => r.stage === 'early');
  if (early.length) return new Set(early.map((r) => r.errno));
  return new Set(j.rejected.flatMap((r) => [r.errno, ...(r.after ?? [])]));
}

/** A struct field as the VMM wrote it: any value, or absent. */
export type Fields = Record<string, unknown>;

export const isInt = (x: unknown): x is number => Number.isInteger(x);
export const obj = (x: unknown): Fields => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Fields) : {});
/** a rule on an integer field: a value that is no integer is refused as the kernel's u32/u64 copy never yields one */
export const intRule = (x: unknown, ok: (n: number) => boolean): RuleOutcome => (isInt(x) && ok(x) ? 'accept' : 'reject');
