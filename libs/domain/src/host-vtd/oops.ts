import { ERRNO } from '../../../contracts/src/index.js';
import { reply } from '../request-reply.js';
import { evt, type HostInput, type HostOut } from './state.js';

/** A host driver entry point handed a NULL device: the machine oopses in `fn`; the caller sees -EFAULT. */
export function oops(input: HostInput & { payload: { vm: string } }, fn: string, detail: string): HostOut[] {
  return [evt('oops', { fn, what: 'BUG: kernel NULL pointer dereference', detail, vm: input.payload.vm }), ...reply(input, { ret: -ERRNO.EFAULT, oops: fn })];
}
