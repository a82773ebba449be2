import { z } from 'zod';

/**
 * What a BullMQ job carries. A request has `id` and `replyTo` (the queue its replies go to); an event
 * has neither. `metadata` is Nest's out-of-band packet metadata (trace ids and the like), optional.
 */
export const jobPacketSchema = z
  .object({
    pattern: z.string().min(1),
    data: z.unknown().optional(),
    id: z.string().min(1).optional(),
    replyTo: z.string().min(1).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((p, ctx) => {
    if ((p.id === undefined) !== (p.replyTo === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [p.id === undefined ? 'id' : 'replyTo'],
        message: 'a request needs both id and replyTo; an event neither',
      });
    }
    if (p.replyTo?.includes(':')) {
      ctx.addIssue({ code: 'custom', path: ['replyTo'], message: "a queue name cannot contain ':'" });
    }
  });

/** `data` may be absent on the wire (an event without payload); it is then `undefined`. */
export type JobPacket = z.infer<typeof jobPacketSchema> & { data: unknown };
export type RequestJobPacket = JobPacket & { id: string; replyTo: string };

export function isRequest(packet: JobPacket): packet is RequestJobPacket {
  return packet.id !== undefined && packet.replyTo !== undefined;
}

/**
 * A reply job, added to the requester's reply queue. Several may answer one request (a stream); the
 * last has `isDisposed: true`. Only Nest's envelope keys: Nest's default response deserializer treats
 * any other key as a foreign payload.
 */
export const replyPacketSchema = z.object({
  id: z.string().min(1),
  response: z.unknown().optional(),
  err: z.unknown().optional(),
  isDisposed: z.boolean().optional(),
  status: z.string().optional(),
});

export type ReplyPacket = z.infer<typeof replyPacketSchema>;

/** One line naming every failed field, for onMalformed and logs. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Validates a (deserialized) job's data: the packet, or why it is not one. */
export function parseJobPacket(value: unknown): { ok: true; packet: JobPacket } | { ok: false; reason: string } {
  const parsed = jobPacketSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error) };
  return { ok: true, packet: { ...parsed.data, data: parsed.data.data } };
}
