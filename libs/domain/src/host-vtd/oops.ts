import { ERRNO } from '../../../contracts/src/index.js';
import { reply } from '../request-reply.js';
import { evt, type HostInput, type HostOut, type HostVtdState } from './state.js';

type VmInput = HostInput & { payload: { vm: string } };

/** A host driver entry point dereferenced NULL: the machine oopses in `fn`; the caller sees -EFAULT. */
export function oops(input: VmInput, fn: string, detail: string): HostOut[] {
  return [
    evt('oops', { fn, what: 'BUG: kernel NULL pointer dereference', detail, vm: input.payload.vm }),
    // what the console shows, in the order the kernel prints it (the RIP line names the function)
    evt('dmesg', { level: 'alert', fn, text: 'BUG: kernel NULL pointer dereference, address: 0000000000000000' }),
    evt('dmesg', { level: 'emerg', fn, text: 'Oops: 0000 [#1] SMP NOPTI' }),
    evt('dmesg', { level: 'emerg', fn, text: `RIP: 0010:${fn}` }),
    ...reply(input, { ret: -ERRNO.EFAULT, oops: fn }),
  ];
}

/**
 * A NULL device handed to intel_svm_bind_gpasid / intel_svm_unbind_gpasid (bug #1), as the host kernel
 * meets it (DOMAIN.md §7.2, policy vtd.null_device): the v5.6-v5.8 intel_svm_device_to_iommu
 * dereferences it; from v5.9 device_to_iommu returns NULL for it and `WARN_ON(!iommu)` returns -EINVAL.
 */
export function nullDevice(s: HostVtdState, input: VmInput, fn: string, caller: string): HostOut[] {
  if (s.policy!['vtd.null_device'] === 'oops') return oops(input, fn, `intel_svm_device_to_iommu(dev=NULL) called from ${caller}`);
  return [
    evt('dmesg', { level: 'warn', fn, text: `WARNING: CPU: 0 PID: 0 at drivers/iommu/intel/svm.c ${fn}` }),
    evt('null_device.warned', { vm: input.payload.vm, fn, errno: 'EINVAL', why: 'WARN_ON(!iommu): device_to_iommu(dev=NULL) returned NULL' }),
    ...reply(input, { ret: -ERRNO.EINVAL }),
  ];
}
