import { expect } from 'vitest';
import { ERRNO, formatRet, type Component, type Envelope } from '../../libs/contracts/src/index.js';
import { DECIDERS, foldOutputs, type Output, type Ret } from '../../libs/domain/src/index.js';

/**
 * Given/when/then for one decider, in the kernel's terms:
 *
 *   given('host-vtd', runOpen('v7'), iommu_domain_alloc('vm1'), ..., iommu_sva_bind_gpasid({ data }))
 *     .when(iommu_sva_bind_gpasid({ data }))
 *     .then(returns(-EBUSY), emits('bind_gpasid.rejected', { errno: 'EBUSY' }))
 *
 * The given inputs are folded into the decider's state (decide, then evolve every output, as every
 * engine does); each must succeed, so a broken fixture fails loudly instead of passing a test by
 * accident. The component under test calls others (VFIO asks the mdev parent and the host, the host
 * waits on the device for a devTLB flush): the callees answer every request they are sent, as
 * `defaultCallees` say (the healthy machine), or as `.where(...)` (for the `when` input) and
 * `answered(input, ...)` (for a given input) override.
 * "then" sees everything the `when` input caused, through those answers, up to the reply.
 */

/** An input to the decider under test; the DSL gives it an id and a Lamport time. */
export interface Input {
  type: string;
  from: Component | 'cli';
  payload: Record<string, unknown>;
  /** callees that answer this input otherwise than by default */
  where?: Callees;
}

/** What a callee returns to a request: a Ret, or one computed from the request's payload. */
export type Answer = Ret | ((req: Record<string, unknown>) => Ret);
/** Callees by request type (the command the decider sends, e.g. 'vfio_mdev_get_iommu_device'); null: never answers. */
export type Callees = Record<string, Answer | null>;

export interface Outcome<S> {
  /** the `when` input as delivered */
  input: Envelope;
  /** every output the input caused, including after the callees' answers, in order */
  outputs: Output[];
  /** the answer to the caller (`<type>.ret`, or `step.completed` for a scenario step), if one was sent */
  reply: Ret | undefined;
  /** the decider's state after it all */
  state: S;
}
export type Expectation<S = unknown> = (o: Outcome<S>) => void;

interface Driven<S> {
  state: S;
  outputs: Output[];
}

/** Delivers one input and then the callees' answers to the requests it sent, until none is left. */
function drive<S>(component: Component, state: S, input: Envelope, callees: Callees, ids: () => string): Driven<S> {
  const d = DECIDERS[component];
  const outputs: Output[] = [];
  const queue: Envelope[] = [input];
  for (let n = 0; queue.length; n++) {
    if (n > 1000) throw new Error('gwt: more than 1000 deliveries; a callee answers forever');
    const env = queue.shift()!;
    const outs = d.decide(state, env);
    state = foldOutputs(d, state, outs) as S;
    outputs.push(...outs);
    for (const o of outs) {
      if (o.kind !== 'command') continue;
      const p = o.payload as { tag?: unknown; noreply?: boolean };
      const answer = callees[o.type];
      // a request the sender waits on carries a tag; unwinds and frees say noreply
      if (!answer || p.tag === undefined || p.noreply) continue;
      const r = typeof answer === 'function' ? answer(o.payload) : answer;
      queue.push(envelope(component, { type: `${o.type}.ret`, from: o.to, payload: { re: ids(), tag: p.tag, ...r } }, ids()));
    }
  }
  return { state, outputs };
}

let lamport = 0;
function envelope(to: Component, i: Input, id: string): Envelope {
  // one cast: the DSL builds inputs of every type, the payload's shape is the test's to get right
  return { runId: 'gwt', id, type: i.type, from: i.from, to, causationId: null, correlationId: 'gwt', lamport: ++lamport, payload: i.payload } as Envelope;
}

/** The answer to `input` among `outputs`: `<type>.ret` with `re` = its id, or the step's completion. */
function replyTo(input: Envelope, outputs: Output[]): Ret | undefined {
  const step = (input.payload as { step?: unknown }).step;
  const r = outputs.find((o) => o.kind === 'command' && o.to === input.from && (
    (o.type === `${input.type}.ret` && (o.payload as { re?: unknown }).re === input.id)
    || (o.type === 'step.completed' && typeof step === 'number' && (o.payload as { step?: unknown }).step === step)));
  if (!r) return undefined;
  return (r.type === 'step.completed' ? (r.payload as { outcome: Ret }).outcome : r.payload) as unknown as Ret;
}

export function given<S = unknown>(component: Component, ...inputs: Input[]) {
  let n = 0;
  const ids = () => `in.${++n}`;
  const fold = (callees: Callees): S => {
    let state = DECIDERS[component].initialState() as S;
    for (const i of inputs) {
      const env = envelope(component, i, ids());
      const r = drive(component, state, env, { ...callees, ...i.where }, ids);
      const ret = replyTo(env, r.outputs);
      if (ret && (ret.ret < 0 || ret.oops)) throw new Error(`gwt: the given input ${i.type} returned ${formatRet(ret.ret)}${ret.oops ? ` (oops in ${ret.oops})` : ''}; a given input must succeed`);
      state = r.state;
    }
    return state;
  };
  return {
    when(input: Input) {
      let where: Callees = {};
      const spec = {
        /** How the callees answer this input, over the defaults: e.g. the parent lost mdev2's IOMMU device. */
        where(callees: Callees) {
          where = callees;
          return spec;
        },
        then(...expectations: Expectation<S>[]): Outcome<S> {
          if (!expectations.length) throw new Error('gwt: then() with nothing to check cannot fail');
          const callees = defaultCallees();
          const state = fold(callees);
          const env = envelope(component, input, ids());
          const r = drive(component, state, env, { ...callees, ...input.where, ...where }, ids);
          const outcome: Outcome<S> = { input: env, outputs: r.outputs, reply: replyTo(env, r.outputs), state: r.state };
          for (const e of expectations) e(outcome);
          return outcome;
        },
      };
      return spec;
    },
  };
}

/** A given input the callees answer otherwise than by default (e.g. an attach where no device is IOMMU-backed). */
export const answered = (input: Input, callees: Callees): Input => ({ ...input, where: callees });

/**
 * The healthy machine: the mdev parent resolves every mdev to its IOMMU device (6a:01.0, aux),
 * the host allocates domains and PASIDs and binds, unbinds and flushes with success, and the device
 * completes every devTLB invalidation. Fresh per spec: the domain and PASID counters start over.
 */
export function defaultCallees(): Callees {
  let domain = 0;
  let defaultPasid = 100;
  const allocated = new Set<number>();
  const ok = { ret: 0 };
  return {
    vfio_mdev_get_iommu_device: { ret: 0, value: RID, detail: { parent: 'dsa0', aux: true } },
    iommu_domain_alloc: () => ({ ret: 0, value: { domain: ++domain, did: domain + 1 } }),
    iommu_aux_attach_device: () => ({ ret: 0, value: ++defaultPasid }),
    iommu_attach_device: { ret: 0, value: 0 },
    // the lowest free PASID of the range, as ioasid_alloc finds it
    ioasid_alloc: (req) => {
      let p = req.min as number;
      while (allocated.has(p)) p++;
      allocated.add(p);
      return { ret: 0, value: p };
    },
    iommu_sva_bind_gpasid: ok,
    iommu_sva_unbind_gpasid: ok,
    iommu_cache_invalidate: ok,
    devtlb_invalidate: { ret: 0, detail: { processed: 0 } },
  };
}

/** The requester id of the IOMMU-backed parent dsa0 in every spec. */
export const RID = '6a:01.0';

/** The kernel's errno names, so that a test reads `returns(-EBUSY)`. */
export const { ENOENT, EIO, EFAULT, EBUSY, ENODEV, EINVAL, ENOSPC, ERANGE, EACCES, EOPNOTSUPP, ENOTSUPP } = ERRNO;

// ---- then ----

const events = (o: Outcome<unknown>) => o.outputs.filter((x) => x.kind === 'event');
const commands = (o: Outcome<unknown>) => o.outputs.filter((x) => x.kind === 'command');
const names = (xs: Output[]) => xs.map((x) => (x.kind === 'command' ? `${x.to}:${x.type}` : x.type)).join(', ');

/** The call returned `ret` (0, a value, or -errno): compared as the kernel prints it, "-EBUSY (16)". */
export const returns = (ret: number): Expectation => (o) => {
  expect(o.reply, `no reply to ${o.input.type}; it sent: ${names(commands(o))}`).toBeDefined();
  expect(formatRet(o.reply!.ret)).toBe(formatRet(ret));
  expect(o.reply!.oops, 'the host oopsed').toBeUndefined();
};

/** The caller was told the host died in `fn` (a NULL dereference). */
export const oopses = (fn: string): Expectation => (o) => {
  expect(o.reply, `no reply to ${o.input.type}`).toBeDefined();
  expect(o.reply!.oops).toBe(fn);
};

/** No answer yet: the call is parked on something (and says what with `sends`). */
export const doesNotReturn: Expectation = (o) => expect(o.reply, 'an answer was sent').toBeUndefined();

/** An event of this type, with these fields (others may be there too). */
export const emits = (type: string, fields: Record<string, unknown> = {}): Expectation => (o) => {
  const of = events(o).filter((e) => e.type === type);
  expect(of.length, `no ${type} event; it emitted: ${names(events(o))}`).toBeGreaterThan(0);
  expect(of.map((e) => e.payload)).toContainEqual(expect.objectContaining(fields));
};

export const doesNotEmit = (type: string): Expectation => (o) => {
  expect(events(o).map((e) => e.type)).not.toContain(type);
};

/** A command to another component, with these fields in its payload. */
export const sends = (to: Component, type: string, fields: Record<string, unknown> = {}): Expectation => (o) => {
  const of = commands(o).filter((c) => c.kind === 'command' && c.to === to && c.type === type);
  expect(of.length, `no ${type} to ${to}; it sent: ${names(commands(o))}`).toBeGreaterThan(0);
  expect(of.map((c) => c.payload)).toContainEqual(expect.objectContaining(fields));
};

/** How many commands of this type went to `to` (0: never). */
export const sendsTimes = (to: Component, type: string, times: number): Expectation => (o) => {
  expect(commands(o).filter((c) => c.kind === 'command' && c.to === to && c.type === type).length, `${type} to ${to}`).toBe(times);
};

/** These events happen in this order, others may come between (the kernel's ordering rules). */
export const emitsInOrder = (...types: string[]): Expectation => (o) => {
  let next = 0;
  for (const e of events(o)) if (next < types.length && e.type === types[next]) next++;
  expect(types.slice(next), `${types.join(' -> ')} in order, among: ${names(events(o))}`).toEqual([]);
};

/** Any other check of the outcome, e.g. of the state it leaves. */
export const holds = <S>(check: (o: Outcome<S>) => void): Expectation<S> => check;
