import { RunCoordinator, bootstrapService } from '../../../libs/cluster/src/index.js';
import { OrchestratorController } from './orchestrator.controller.js';

await bootstrapService('orchestrator', [OrchestratorController], [RunCoordinator]);
