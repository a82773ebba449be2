import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ComponentController, RunCoordinator, type RunRequest } from '../../../libs/cluster/src/index.js';
import { ComponentHost } from '../../../libs/runtime/src/index.js';

/** The run itself: the scenario cursor (libs/domain/src/orchestrator), and `run.start` for the CLI. */
@Controller()
export class OrchestratorController extends ComponentController {
  constructor(@Inject(ComponentHost) host: ComponentHost, @Inject(RunCoordinator) private readonly runs: RunCoordinator) {
    super(host);
  }

  /** Runs one scenario to its end and answers with the report (checked history). */
  @MessagePattern('run.start')
  start(@Payload() req: RunRequest) {
    return this.runs.start(req);
  }
}
