import { Controller } from '@nestjs/common';
import { ComponentController } from '../../../libs/cluster/src/index.js';

/** QEMU's emulated VT-d: the guest's PASID table, VCMD and trapped invalidation queue. Its behaviour is libs/domain/src/guest-viommu; this only delivers inputs to it. */
@Controller()
export class GuestViommuController extends ComponentController {}
