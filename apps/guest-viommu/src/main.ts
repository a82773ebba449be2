import { bootstrapService } from '../../../libs/cluster/src/index.js';
import { GuestViommuController } from './guest-viommu.controller.js';

await bootstrapService('guest-viommu', [GuestViommuController]);
