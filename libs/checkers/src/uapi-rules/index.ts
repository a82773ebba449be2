/**
 * The uAPI structs' input rules, read from DOMAIN.md (§1.2, §2.1-2.4, §7.5-7.8) apart from the
 * deciders (libs/domain): the second reading `uapi-errno` holds the kernel model's answers against.
 * One file per struct; each rule cites its section.
 */
export { CACHE_INVALIDATE_INFO_RULES } from './cache-invalidate-info.js';
export { GPASID_BIND_DATA_RULES } from './gpasid-bind-data.js';
export { NESTING_OP_RULES, opOf, BIND_PGTBL, UNBIND_PGTBL, CACHE_INVLD } from './nesting-op.js';
export { PASID_REQUEST_RULES } from './pasid-request.js';
export { expectedErrnos, judge, obj, type Fields, type Judgement, type Policy, type RuleOutcome, type UapiRule } from './types.js';
