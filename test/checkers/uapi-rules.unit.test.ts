import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import {
  CACHE_INVALIDATE_INFO_RULES, expectedErrnos, GPASID_BIND_DATA_RULES, judge, NESTING_OP_RULES, PASID_REQUEST_RULES, type Fields, type UapiRule,
} from '../../libs/checkers/src/uapi-rules/index.js';

const mainline = resolvePolicy('mainline').values;
const v1 = resolvePolicy('v1').values;

// what QEMU sends: every rule accepts each of these (under the policy that enables the rule)
const pasidAlloc: Fields = { argsz: 16, flags: 1, range: { min: 1, max: 0xfffff } };
const header: Fields = { argsz: 16, flags: 2 };
const bindData: Fields = { argsz: 72, version: 1, format: 1, flags: 1, gpgd: 0x100000, hpasid: 5, gpasid: 5, addr_width: 48, vendor: { vtd: { flags: 0, pat: 0, emt: 0 } } };
const invalPasid: Fields = { argsz: 32, version: 1, cache: 1, granularity: 1, pasid_info: { flags: 1, pasid: 5 } };
const invalAddr: Fields = { argsz: 56, version: 1, cache: 1, granularity: 2, addr_info: { flags: 1, pasid: 5, addr: 0x4000, granule_size: 4096, nb_granules: 2 } };

/** one input each rule refuses, with the policy it is judged under */
const refused: Array<[UapiRule<Fields>, Fields, typeof mainline]> = [];
const rule = (rules: readonly UapiRule<Fields>[], id: string) => rules.find((r) => r.id === id)!;
const bad = (rules: readonly UapiRule<Fields>[], id: string, input: Fields, p = mainline) => refused.push([rule(rules, id), input, p]);
bad(PASID_REQUEST_RULES, 'pasid_request.argsz', { ...pasidAlloc, argsz: 12 });
bad(PASID_REQUEST_RULES, 'pasid_request.flags', { ...pasidAlloc, flags: 3 });
bad(PASID_REQUEST_RULES, 'pasid_request.range', { ...pasidAlloc, range: { min: 9, max: 8 } });
bad(PASID_REQUEST_RULES, 'pasid_request.range_31bit', { ...pasidAlloc, range: { min: 1, max: 2 ** 31 + 1 } });
bad(NESTING_OP_RULES, 'nesting_op.argsz', { ...header, argsz: 4 });
bad(NESTING_OP_RULES, 'nesting_op.op', { ...header, flags: 3 });
bad(NESTING_OP_RULES, 'nesting_op.flags', { ...header, flags: 0x10002 });
bad(GPASID_BIND_DATA_RULES, 'gpasid_bind_data.argsz_core', { ...bindData, argsz: 48 });
bad(GPASID_BIND_DATA_RULES, 'gpasid_bind_data.version', { ...bindData, version: 2 });
bad(GPASID_BIND_DATA_RULES, 'gpasid_bind_data.format', { ...bindData, format: 2 });
bad(GPASID_BIND_DATA_RULES, 'gpasid_bind_data.flags', { ...bindData, flags: 3 });
bad(GPASID_BIND_DATA_RULES, 'gpasid_bind_data.argsz_vtd', { ...bindData, argsz: 64 });
bad(GPASID_BIND_DATA_RULES, 'gpasid_bind_data.vtd_flags', { ...bindData, vendor: { vtd: { flags: 1 << 7 } } });
bad(GPASID_BIND_DATA_RULES, 'gpasid_bind_data.hpasid', { ...bindData, hpasid: 0x100000 });
bad(GPASID_BIND_DATA_RULES, 'gpasid_bind_data.addr_width', { ...bindData, addr_width: 39 });
bad(GPASID_BIND_DATA_RULES, 'gpasid_bind_data.memory_type', { ...bindData, vendor: { vtd: { flags: 1 << 2 } } });
bad(CACHE_INVALIDATE_INFO_RULES, 'cache_invalidate_info.argsz', { ...invalPasid, argsz: 8 });
bad(CACHE_INVALIDATE_INFO_RULES, 'cache_invalidate_info.argsz_granu', { ...invalAddr, argsz: 32 });
bad(CACHE_INVALIDATE_INFO_RULES, 'cache_invalidate_info.version', { ...invalPasid, version: 0 });
bad(CACHE_INVALIDATE_INFO_RULES, 'cache_invalidate_info.cache', { ...invalPasid, cache: 8 });
bad(CACHE_INVALIDATE_INFO_RULES, 'cache_invalidate_info.granularity', { ...invalPasid, granularity: 3 });
bad(CACHE_INVALIDATE_INFO_RULES, 'cache_invalidate_info.flags', { ...invalPasid, pasid_info: { flags: 4, pasid: 5 } });
bad(CACHE_INVALIDATE_INFO_RULES, 'cache_invalidate_info.core_granu', { ...invalAddr, cache: 4 });
bad(CACHE_INVALIDATE_INFO_RULES, 'cache_invalidate_info.type_granu', { ...invalPasid, cache: 2 });
bad(CACHE_INVALIDATE_INFO_RULES, 'cache_invalidate_info.misaligned', { ...invalAddr, addr_info: { flags: 1, pasid: 5, addr: 0x5000, granule_size: 4096, nb_granules: 2 } }, v1);

describe('uAPI struct rules (DOMAIN.md, apart from the deciders)', () => {
  it('accept what QEMU sends, under every preset', () => {
    for (const p of [mainline, v1]) {
      expect(judge(PASID_REQUEST_RULES, pasidAlloc, p).rejected).toEqual([]);
      expect(judge(PASID_REQUEST_RULES, { ...pasidAlloc, flags: 2 }, p).rejected).toEqual([]);
      expect(judge(NESTING_OP_RULES, header, p).rejected).toEqual([]);
      expect(judge(GPASID_BIND_DATA_RULES, bindData, p).rejected).toEqual([]);
      expect(judge(CACHE_INVALIDATE_INFO_RULES, invalPasid, p)).toEqual({ rejected: [], unknown: [] });
      expect(judge(CACHE_INVALIDATE_INFO_RULES, invalAddr, p)).toEqual({ rejected: [], unknown: [] });
    }
  });

  it.each(refused.map(([r, input, p]) => [r.id, r, input, p] as const))('%s refuses its input with its errno', (_id, r, input, p) => {
    const all = [PASID_REQUEST_RULES, NESTING_OP_RULES, GPASID_BIND_DATA_RULES, CACHE_INVALIDATE_INFO_RULES].find((rs) => rs.includes(r))!;
    const j = judge(all, input, p);
    expect(j.rejected.map((x) => x.id)).toContain(r.id);
    expect(expectedErrnos(j)).toContain(r.errno);
    expect(r.section).toMatch(/^DOMAIN\.md §/);
  });

  it('covers every rule that can refuse', () => {
    const all = [PASID_REQUEST_RULES, NESTING_OP_RULES, GPASID_BIND_DATA_RULES, CACHE_INVALIDATE_INFO_RULES].flat();
    const neverRefuse = ['gpasid_bind_data.ecap_flags', 'gpasid_bind_data.gpgd', 'cache_invalidate_info.pasid'];
    expect(all.map((r) => r.id).filter((id) => !neverRefuse.includes(id)).sort()).toEqual(refused.map(([r]) => r.id).sort());
  });

  it('rules keyed by policy follow the run\'s values, not the preset\'s name', () => {
    const big = { ...pasidAlloc, range: { min: 1, max: 2 ** 31 + 1 } };
    expect(judge(PASID_REQUEST_RULES, big, resolvePolicy('v6').values).rejected).toEqual([]);
    expect(judge(PASID_REQUEST_RULES, big, resolvePolicy('v6', { 'vfio.pasid_request_31bit': true }).values).rejected.map((r) => r.id)).toEqual(['pasid_request.range_31bit']);
    // the v5.10 core refuses ADDR x PASID cache early; before it the driver's map refuses it late
    const pasidCacheAddr = { ...invalAddr, cache: 4 };
    expect(judge(CACHE_INVALIDATE_INFO_RULES, pasidCacheAddr, mainline).rejected.map((r) => r.id)).toEqual(['cache_invalidate_info.core_granu', 'cache_invalidate_info.type_granu']);
    expect(expectedErrnos(judge(CACHE_INVALIDATE_INFO_RULES, pasidCacheAddr, mainline))).toEqual(new Set(['EINVAL']));
    expect(judge(CACHE_INVALIDATE_INFO_RULES, pasidCacheAddr, resolvePolicy('v7').values).rejected.map((r) => r.id)).toEqual(['cache_invalidate_info.type_granu']);
    const misaligned = { ...invalAddr, addr_info: { flags: 1, pasid: 5, addr: 0x5000, granule_size: 4096, nb_granules: 2 } };
    expect(judge(CACHE_INVALIDATE_INFO_RULES, misaligned, mainline).rejected).toEqual([]);
    expect(expectedErrnos(judge(CACHE_INVALIDATE_INFO_RULES, misaligned, v1))).toContain('ERANGE');
  });

  it('what depends on the host is unknown, neither accepted nor refused', () => {
    const j = judge(GPASID_BIND_DATA_RULES, { ...bindData, addr_width: 57, vendor: { vtd: { flags: 1 } } }, mainline);
    expect(j.rejected).toEqual([]);
    expect(j.unknown.map((r) => r.id)).toEqual(['gpasid_bind_data.addr_width', 'gpasid_bind_data.ecap_flags', 'gpasid_bind_data.gpgd']);
  });
});
