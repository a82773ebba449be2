import { ERRNO } from '../../../contracts/src/index.js';
import { completeStep } from '../request-reply.js';
import { pageOf } from '../topology.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState } from './state.js';

/**
 * The guest's first-level page tables, in the VM's memory, as the nested walk reads them: the guest
 * CPU maps and unmaps pages (scenario steps), and its fault handler writes a PTE (mem.write_pte).
 */
export function writePte(s: HostVtdState, input: HostInputOf<'mem.write_pte' | 'step.guest_map'>): HostOut[] {
  const m = input.payload;
  const step = input.type === 'step.guest_map' ? input.payload.step : null;
  if (!s.vms[m.vm]) return step === null ? [] : [completeStep(step, { ret: -ERRNO.ENODEV })];
  const pages = input.type === 'step.guest_map' ? input.payload.pages : 1;
  const by = step === null ? 'guest fault handler' : 'guest CPU';
  const e = evt('mem.pte_written', { vm: m.vm, gpgd: m.gpgd, table: pageOf(m.gpgd), page: pageOf(m.va), pages, gpa: pageOf(m.gpa), w: m.write !== false, by });
  return [e, ...(step === null ? [] : [completeStep(step, { ret: 0 })])];
}

export function clearPte(s: HostVtdState, input: HostInputOf<'step.guest_unmap'>): HostOut[] {
  const m = input.payload;
  if (!s.vms[m.vm]) return [completeStep(m.step, { ret: -ERRNO.ENODEV })];
  return [evt('mem.pte_cleared', { vm: m.vm, gpgd: m.gpgd, table: pageOf(m.gpgd), page: pageOf(m.va), pages: m.pages, by: 'guest CPU' }), completeStep(m.step, { ret: 0 })];
}
