import type { LogEntry } from '../../contracts/src/index.js';
import { bindAtomic } from './bind-atomic.js';
import { dmaIsolation } from './dma-isolation.js';
import { drainBeforeReuse } from './drain-before-reuse.js';
import { invalidationOrder } from './invalidation-order.js';
import { iommuDeviceValid } from './iommu-device-valid.js';
import { noHostOops } from './no-host-oops.js';
import { noStaleTranslation } from './no-stale-translation.js';
import { pageResponse } from './page-response.js';
import { pasidOwnership } from './pasid-ownership.js';
import { pasidQuota } from './pasid-quota.js';
import { pinsWithinMappings } from './pins-within-mappings.js';
import { expectedOutcome, liveness } from './steps.js';
import { History, type Checker, type Violation } from './types.js';
import { uapiErrno } from './uapi-errno.js';

export { History, type Checker, type Violation };

/** Every invariant of DOMAIN.md §6 but replay-identical (the engine's replay checks that), plus the scenario's expectations. */
export const CHECKERS: Checker[] = [
  noHostOops, iommuDeviceValid, dmaIsolation, noStaleTranslation, invalidationOrder, pasidOwnership, pasidQuota,
  drainBeforeReuse, pageResponse, uapiErrno, bindAtomic, pinsWithinMappings, liveness, expectedOutcome,
];

export interface CheckResult {
  checked: string[];
  violations: Violation[];
}

export function checkHistory(entries: LogEntry[]): CheckResult {
  const h = new History(entries);
  return { checked: CHECKERS.map((c) => c.name), violations: CHECKERS.flatMap((c) => c.check(h)) };
}
