import { Inject } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { ComponentHost } from '../../runtime/src/index.js';
import { DELIVER } from './outbox.js';

/** What every service answers: deliveries on its data queue, health on its control queue. */
export abstract class ComponentController {
  constructor(@Inject(ComponentHost) protected readonly host: ComponentHost) {}

  @EventPattern(DELIVER)
  deliver(@Payload() envelope: unknown): Promise<void> {
    return this.host.deliver(envelope);
  }

  @MessagePattern('health')
  health() {
    return { component: this.host.component, pid: process.pid, uptimeMs: Math.round(process.uptime() * 1000), runs: this.host.activeRuns, stats: this.host.stats };
  }
}
