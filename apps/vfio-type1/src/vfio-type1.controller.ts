import { Controller } from '@nestjs/common';
import { ComponentController } from '../../../libs/cluster/src/index.js';

/** the VFIO type1 container: domain_list, external_domain, vfio_mm and the nesting ops. Its behaviour is libs/domain/src/vfio-type1; this only delivers inputs to it. */
@Controller()
export class VfioType1Controller extends ComponentController {}
