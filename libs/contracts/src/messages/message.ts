import { z } from 'zod';
import type { Envelope } from '../envelope.js';

/**
 * The typed vocabulary between components. Each component has two maps in its own file here, from a
 * message type to its payload: its **inputs** (the commands others send it, with a zod schema each,
 * since they cross a process boundary on a queue) and its **events** (what it records about itself,
 * read back by its `evolve`, the checkers and the report). A decider is typed by both (libs/domain
 * decider.ts), so a renamed field fails to compile in the sender, the receiver and the checker alike.
 */
// a type literal, not an interface: an interface does not satisfy the index signature
export type MessageMap = { [type: string]: object };

/** A map of zod schemas, one per input type. */
export type SchemaMap = { [type: string]: z.ZodType<object> };
export type PayloadsOf<S extends SchemaMap> = { [K in keyof S]: z.infer<S[K]> };

/** An input as a decider receives it: the envelope with its type and payload typed together. */
export type InputOf<M extends MessageMap> = { [K in keyof M & string]: Omit<Envelope, 'type' | 'payload'> & { type: K; payload: M[K] } }[keyof M & string];

/** An event of a component, as its decider returns it and its evolve reads it. */
export type EventOf<M extends MessageMap> = { [K in keyof M & string]: { kind: 'event'; type: K; payload: M[K] } }[keyof M & string];

/** What a call returned: the kernel's convention, 0/positive or -errno; `oops` when the host died in it. */
export const RetSchema = z.object({
  ret: z.number().int(),
  value: z.unknown().optional(),
  /** the host driver function that dereferenced a NULL or freed object */
  oops: z.string().optional(),
  /** what else the callee reports (e.g. how many entries it processed) */
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type Ret = z.infer<typeof RetSchema>;

/**
 * The reply to a request: type `<request type>.ret`, back to the requester. `re` is the request's
 * id; `tag` echoes the tag the requester put in the request to find its parked continuation.
 */
export const ReplySchema = RetSchema.extend({ re: z.string(), tag: z.string().nullable() });
export type Reply = z.infer<typeof ReplySchema>;

/** The reply inputs of a component: `<request>.ret` for each request it sends and waits for. */
export function repliesTo<const T extends string>(...requests: T[]): { [K in T as `${K}.ret`]: typeof ReplySchema } {
  return Object.fromEntries(requests.map((r) => [`${r}.ret`, ReplySchema])) as { [K in T as `${K}.ret`]: typeof ReplySchema };
}

/**
 * What every request carries: `tag` finds the requester's continuation when the reply comes;
 * `noreply` says the caller will not wait (unwinds, frees); both absent on fire-and-forget commands.
 */
export const RequestFields = { tag: z.string().optional(), noreply: z.boolean().optional() };

/** Every scenario step a component is sent carries its plan index; the component completes it. */
export const StepFields = { step: z.number().int().nonnegative() };

/**
 * The two events every component parks and resumes a continuation with (libs/domain request-reply.ts):
 * `call.parked` when it sent a request it must wait for, `call.resumed` when the reply came. `W` is
 * the component's continuation type.
 */
export type CallEvents<W = unknown> = {
  'call.parked': { tag: string; continuation: W };
  'call.resumed': { tag: string };
};

/** printk levels a kernel message is logged at (KERN_EMERG .. KERN_INFO, the ones the model prints). */
export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'info'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * What a kernel component prints (DOMAIN.md §7.13): a WARN_ON with its function, a pr_err, a pr_warn,
 * a DMAR fault record, an oops. `text` is the line as the kernel words it; `fn` the function that printed it.
 * The report's `dmesg` array and the timeline's log marks are read from these events.
 */
export type LogEvents = {
  dmesg: { level: LogLevel; fn: string; text: string };
};
