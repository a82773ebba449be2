import { reply } from '../request-reply.js';
import { evt, type HostInputOf, type HostOut, type HostVtdState } from './state.js';

/** intel_iommu_domain_alloc (IOMMU_DOMAIN_UNMANAGED), with DOMAIN_ATTR_NESTING set: a dmar_domain and its DID. */
export function intelIommuDomainAlloc(s: HostVtdState, input: HostInputOf<'iommu_domain_alloc'>): HostOut[] {
  const domain = s.nextDomain, did = s.nextDid;
  return [evt('domain.allocated', { vm: input.payload.vm, domain, did, nesting: !!input.payload.nesting }), ...reply(input, { ret: 0, value: { domain, did } })];
}

/** intel_iommu_domain_free: void, nothing to answer. */
export function intelIommuDomainFree(s: HostVtdState, input: HostInputOf<'iommu_domain_free'>): HostOut[] {
  const { vm, domain } = input.payload;
  return s.domains[domain] ? [evt('domain.freed', { vm, domain })] : [];
}
