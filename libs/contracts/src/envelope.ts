import { z } from 'zod';
import { COMPONENTS } from './components.js';

export const SCHEMA_VERSION = 1;

/**
 * A run id is the Redis Cluster hash tag of every key of its run (`vsva:{runId}:log`): braces would
 * move the keys to another slot, whitespace is not an id. Envelopes, exports and the log all hold to it.
 */
export const RUN_ID_PATTERN = /^[^{}\s]+$/;
export const RunIdSchema = z
  .string()
  .min(1, 'a run id must not be empty')
  .regex(RUN_ID_PATTERN, 'a run id must not contain braces or whitespace (it is the hash tag of the run\'s Redis keys)');

/**
 * A message from one component to another: the unit of delivery. The BullMQ job that carries it
 * is only delivery; the envelope is what the receiver records as its input.
 */
export const EnvelopeSchema = z.object({
  runId: RunIdSchema,
  /** event id of the command that sent it (also the job id), unique in the run */
  id: z.string().min(1),
  type: z.string().min(1),
  from: z.enum([...COMPONENTS, 'cli']),
  to: z.enum(COMPONENTS),
  causationId: z.string().nullable(),
  correlationId: z.string(),
  lamport: z.number().int().nonnegative(),
  /**
   * Its place among the commands its sender sent its receiver in the run, from 1. A queue may deliver
   * out of that order (a retry after a backoff, a crashed consumer's job coming back after later ones);
   * the receiver consumes in it (component-host.ts), as the calls the messages stand for were made.
   */
  chan: z.number().int().positive().optional(),
  payload: z.unknown(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

export const LogEntryKind = z.enum(['input', 'event', 'command']);
export type LogEntryKind = z.infer<typeof LogEntryKind>;

/**
 * One entry of a run's log (DESIGN.md §2.2). `input` entries are what a component consumed, in the
 * order it consumed them (payload = the whole envelope, stateHash = its state after deciding);
 * `event` entries are what it recorded; `command` entries are what it sent (`to` names the receiver).
 */
export const LogEntrySchema = z.object({
  runId: z.string(),
  seq: z.number().int().positive(),
  eventId: z.string(),
  kind: LogEntryKind,
  type: z.string(),
  component: z.enum(COMPONENTS),
  to: z.enum(COMPONENTS).optional(),
  causationId: z.string().nullable(),
  correlationId: z.string(),
  lamport: z.number().int().nonnegative(),
  /** a command's place on its channel (Envelope.chan) */
  chan: z.number().int().positive().optional(),
  payload: z.unknown(),
  stateHash: z.string().optional(),
  schemaVersion: z.literal(SCHEMA_VERSION),
  ts: z.number().optional(),
});
export type LogEntry = z.infer<typeof LogEntrySchema>;
/** An entry before the log gave it a sequence number. */
export type NewLogEntry = Omit<LogEntry, 'seq'>;
