import { bootstrapService } from '../../../libs/cluster/src/index.js';
import { MdevParentController } from './mdev-parent.controller.js';

await bootstrapService('mdev-parent', [MdevParentController]);
