import { Controller } from '@nestjs/common';
import { ComponentController } from '../../../libs/cluster/src/index.js';

/** the VT-d hardware and the intel-iommu/intel-svm driver. Its behaviour is libs/domain/src/host-vtd; this only delivers inputs to it. */
@Controller()
export class HostVtdController extends ComponentController {}
