import { errnoName, type Outcome, type OutcomeName } from '../../contracts/src/index.js';

export type { Outcome, OutcomeName };

export function outcomeName(o: Outcome): OutcomeName | string {
  if (o.oops) return 'oops';
  if (o.timeout) return 'timeout';
  if (o.ret < 0) return errnoName(o.ret) ?? String(o.ret);
  return 'ok';
}
