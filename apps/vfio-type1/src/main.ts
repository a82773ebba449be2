import { bootstrapService } from '../../../libs/cluster/src/index.js';
import { VfioType1Controller } from './vfio-type1.controller.js';

await bootstrapService('vfio-type1', [VfioType1Controller]);
