import type { LogEntry } from '../../contracts/src/index.js';
import { iommuDeviceValid } from './iommu-device-valid.js';
import { noHostOops } from './no-host-oops.js';
import { expectedOutcome, liveness } from './steps.js';
import { History, type Checker, type Violation } from './types.js';

export { History, type Checker, type Violation };

export const CHECKERS: Checker[] = [noHostOops, iommuDeviceValid, liveness, expectedOutcome];

export interface CheckResult {
  checked: string[];
  violations: Violation[];
}

export function checkHistory(entries: LogEntry[]): CheckResult {
  const h = new History(entries);
  return { checked: CHECKERS.map((c) => c.name), violations: CHECKERS.flatMap((c) => c.check(h)) };
}
