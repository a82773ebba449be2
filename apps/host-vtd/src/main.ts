import { bootstrapService } from '../../../libs/cluster/src/index.js';
import { HostVtdController } from './host-vtd.controller.js';

await bootstrapService('host-vtd', [HostVtdController]);
