import { ERRNO, type Envelope, type ErrnoName } from '../../../contracts/src/index.js';
import { cmd, evt, type Output, type Ret } from '../decider.js';
import { answer as answerCall } from '../request-reply.js';
import type { Caller, VfioOp } from './state.js';

export function answer(c: Caller, r: Ret): Output {
  if (c.step !== undefined) return cmd('orchestrator', 'step.completed', { step: c.step, outcome: r });
  return answerCall({ kind: 'call', to: c.to, type: c.type, re: c.re, tag: c.tag as string | null, noreply: false }, r)[0]!;
}

export const callerOf = (input: Envelope): Caller => {
  const p = input.payload as { tag?: unknown; step?: unknown };
  if (input.from === 'orchestrator' && typeof p.step === 'number') return { to: 'orchestrator', type: input.type, re: input.id, tag: null, step: p.step };
  return { to: input.from as Caller['to'], type: input.type, re: input.id, tag: p?.tag ?? null };
};

/** Park `op` until the reply to the request sent now (tagged with this input's id) comes back. */
export const park = (input: Envelope, op: VfioOp): Output => evt('op.await', { tag: input.id, op });

export const errno = (name: ErrnoName): number => -ERRNO[name];
