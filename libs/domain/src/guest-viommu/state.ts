import type { GuestPasidEntry, GuestViommuEvents, InvalidationScope, Ret } from '../../../contracts/src/index.js';
import { eventsOf } from '../decider.js';
import { completeStep } from '../request-reply.js';

/**
 * What the vIOMMU waits for (its parked continuation, request-reply.ts): the reply to a request it
 * sent to VFIO on behalf of a scenario step, then the step completes. One member per operation.
 */
export type GuestCall =
  /** VCMD ALLOC_PASID repeated: how many are still to allocate, and the range */
  | { step: number; op: 'alloc'; vm: string; left: number; range: { min: number; max: number } }
  | { step: number; op: 'free'; vm: string; pasid: number }
  | { step: number; op: 'bind'; vm: string; pasid: number; entry: GuestPasidEntry }
  | { step: number; op: 'unbind'; vm: string; pasid: number }
  /** the scope of an invalidation, for the wait descriptor's status write */
  | { step: number; op: 'inval'; vm: string; pasid: number; scope: InvalidationScope }
  /** one of the VMM's own ioctls (raw arguments) */
  | { step: number; op: 'ioctl'; vm: string; pasid?: number; scope?: InvalidationScope };

export interface GuestVm {
  /** the guest's PASID table */
  table: Record<number, GuestPasidEntry>;
  /** QEMU's PASID cache (pasid_cache_entry, cache_filled) */
  cache: Record<number, GuestPasidEntry>;
  ram: number;
  faults: 'respond' | 'ignore';
}

export interface GuestViommuState {
  vms: Record<string, GuestVm>;
  /** parked continuations by the tag of the request they wait on */
  calls: Record<string, GuestCall>;
}

export const evt = eventsOf<GuestViommuEvents<GuestCall>>();

/** The step completes with what VFIO returned: an oops as is, else the errno and what else it reported. */
export const completeWith = (step: number, r: Ret) => completeStep(step, r.oops ? r : { ret: r.ret, ...(r.detail ? { detail: r.detail } : {}) });

/** The wait descriptor's status write: the guest sees the batch as done (or QEMU reports the failure). */
export function waitDone(c: GuestCall & { op: 'bind' | 'unbind' | 'inval' | 'ioctl' }, r: Ret) {
  return evt('wait_descriptor.completed', {
    vm: c.vm, op: c.op === 'ioctl' ? 'inval' : c.op, pasid: c.pasid ?? null, ret: r.ret, status: r.ret === 0 && !r.oops ? 'done' : 'error',
    ...('scope' in c && c.scope ? { scope: c.scope } : {}),
  });
}
