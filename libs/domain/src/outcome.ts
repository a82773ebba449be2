import { errnoName, type ErrnoName } from '../../contracts/src/index.js';
import type { Ret } from './decider.js';

/** How a guest-visible operation ended, as the scenario's `expect:` names it. */
export type OutcomeName = 'ok' | 'oops' | 'timeout' | ErrnoName;

export interface Outcome extends Ret {
  timeout?: boolean;
}

export function outcomeName(o: Outcome): OutcomeName | string {
  if (o.oops) return 'oops';
  if (o.timeout) return 'timeout';
  if (o.ret < 0) return errnoName(o.ret) ?? String(o.ret);
  return 'ok';
}
