import { Controller } from '@nestjs/common';
import { ComponentController } from '../../../libs/cluster/src/index.js';

/** the mdev parent drivers: IOMMU-backed (aux domains) and not (pin_pages). Its behaviour is libs/domain/src/mdev-parent; this only delivers inputs to it. */
@Controller()
export class MdevParentController extends ComponentController {}
