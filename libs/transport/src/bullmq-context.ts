import { BaseRpcContext, type PacketMetadata } from '@nestjs/microservices';
import type { Job } from 'bullmq';

type BullMqContextArgs = [job: Job, queue: string, metadata?: PacketMetadata];

/** The RPC context a handler sees (`@Ctx() ctx: BullMqContext`): the BullMQ job and its queue. */
export class BullMqContext extends BaseRpcContext<BullMqContextArgs> {
  /** The job being processed (id, attempts, timestamps). */
  getJob(): Job {
    return this.args[0];
  }

  /** The queue the job came from. */
  getQueue(): string {
    return this.args[1];
  }

  /** The metadata the client attached to the packet, if any. */
  getMetadata(): PacketMetadata | undefined {
    return this.args[2];
  }
}
