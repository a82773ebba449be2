import { Inject, Module, type DynamicModule, type OnApplicationShutdown, type Type } from '@nestjs/common';
import type { Component } from '../../contracts/src/index.js';
import type { RedisRunLog } from '../../event-log/src/index.js';
import { ComponentHost, type ComponentHostOptions } from '../../runtime/src/index.js';
import type { ClusterConfig } from './config.js';
import { QueueOutbox } from './outbox.js';
import { CLUSTER_CONFIG, RUN_LOG } from './tokens.js';

class ServiceLifecycle implements OnApplicationShutdown {
  constructor(@Inject(QueueOutbox) private readonly outbox: QueueOutbox, @Inject(RUN_LOG) private readonly log: RedisRunLog) {}
  async onApplicationShutdown(): Promise<void> {
    await this.outbox.close();
    await this.log.close();
  }
}

/** The providers every service shares: its run log, its outbox and the host of its decider. */
@Module({})
export class ServiceModule {
  static for(component: Component, cfg: ClusterConfig, log: RedisRunLog, controllers: Type[], extra: Type[] = [], hostOptions: ComponentHostOptions = {}): DynamicModule {
    return {
      module: ServiceModule,
      controllers,
      providers: [
        { provide: CLUSTER_CONFIG, useValue: cfg },
        { provide: RUN_LOG, useValue: log },
        { provide: QueueOutbox, useFactory: () => new QueueOutbox(cfg, cfg.partitions ?? 1) },
        { provide: ComponentHost, useFactory: (outbox: QueueOutbox) => new ComponentHost(component, log, outbox, hostOptions), inject: [QueueOutbox] },
        ServiceLifecycle,
        ...extra,
      ],
      exports: [ComponentHost, QueueOutbox, RUN_LOG, CLUSTER_CONFIG],
    };
  }
}
