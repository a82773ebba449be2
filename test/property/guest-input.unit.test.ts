import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPONENTS, errnoName, resolvePolicy, STANDARD_ERRNOS, type Component, type Envelope } from '../../libs/contracts/src/index.js';
import { DECIDERS } from '../../libs/domain/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { buildReport, initialRuntime, processInput, type ComponentRuntime } from '../../libs/runtime/src/index.js';
import { parseScenario, type Scenario } from '../../libs/scenario/src/index.js';

/** Guest input is untrusted (DESIGN.md §2.8): every field the VMM supplies, random and malformed. */
const base = parseScenario(`
name: fuzz
description: random and malformed PASID_REQUEST, iommu_gpasid_bind_data and iommu_cache_invalidate_info
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }, { id: dsa1, kind: iommu-backed, rid: "6b:01.0" }]
vms: [{ id: vm1, mdevs: [{ id: m1, parent: dsa0 }] }, { id: vm2, mdevs: [{ id: m2, parent: dsa1 }] }]
steps: []
`, 'fuzz.yaml');

// every preset bug fixed: under it, no input at all may break an invariant
const FIXED = resolvePolicy('mainline', { 'vtd.unsupported_inval': 'EINVAL' });

const anyInt = fc.oneof(fc.integer({ min: -3, max: 70 }), fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 2, 16, 48, 56, 57, 64, 0xfffff, 0x100000));
const pasid = fc.oneof(fc.constant('$p'), fc.constant('$q'), anyInt);
const vm = fc.constantFrom('vm1', 'vm2');

const pasidRequest = fc.record({ op: fc.constant('ioctl_pasid_request'), vm, argsz: anyInt, flags: anyInt, min: anyInt, max: anyInt });
const bind = fc.record({
  op: fc.constantFrom('ioctl_bind', 'ioctl_unbind'), vm, op_argsz: anyInt, argsz: anyInt, version: anyInt, format: anyInt, flags: anyInt,
  gpgd: fc.oneof(anyInt, fc.constant(0x100000)), hpasid: pasid, addr_width: anyInt, vtd_flags: anyInt, pat: anyInt, emt: anyInt,
});
const inval = fc.record({
  op: fc.constant('ioctl_invalidate'), vm, op_argsz: anyInt, argsz: anyInt, version: anyInt, cache: anyInt, granularity: anyInt, flags: anyInt,
  pasid, addr: fc.oneof(anyInt, fc.constant(0x400000)), granule_size: anyInt, nb_granules: anyInt,
});
const wellFormed = fc.oneof(
  fc.record({ op: fc.constant('bind'), vm, pasid: fc.constantFrom('$p', '$q'), gpgd: fc.constant(0x100000), addr_width: fc.constant(48), pgtt: fc.constant(1), sre: fc.boolean(), eafe: fc.constant(false) }),
  fc.record({ op: fc.constant('unbind'), vm, pasid: fc.constantFrom('$p', '$q') }),
  fc.record({ op: fc.constant('iotlb_invalidate'), vm, pasid: fc.constantFrom('$p', '$q'), granularity: fc.constantFrom('pasid', 'addr'), addr: fc.constant(0x400000), pages: fc.constantFrom(1, 2) }),
  fc.record({ op: fc.constant('dma'), mdev: fc.constantFrom('m1', 'm2'), pasid: fc.constantFrom('$p', '$q'), va: fc.constant(0x400000), write: fc.boolean(), background: fc.boolean() }),
  fc.record({ op: fc.constant('page_request'), mdev: fc.constantFrom('m1', 'm2'), pasid, va: fc.constantFrom(0x400000, 2 ** 48), write: fc.boolean(), lpig: fc.boolean(), pdp: fc.boolean(), pasid_present: fc.boolean(), pm_req: fc.boolean(), exe_req: fc.boolean(), background: fc.boolean() }),
);
const step = fc.oneof({ weight: 3, arbitrary: pasidRequest }, { weight: 4, arbitrary: bind }, { weight: 4, arbitrary: inval }, { weight: 2, arbitrary: wellFormed });

const STEPS = 46;
const RUNS = 220;

describe('random and malformed guest requests through the deciders', () => {
  it(`${RUNS} runs of ${STEPS} requests (${RUNS * STEPS}): nothing throws, no invariant breaks, every rejection is a kernel errno`, async () => {
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: STEPS, maxLength: STEPS }), fc.integer({ min: 1, max: 1000 }), async (steps, seed) => {
        const scenario = {
          ...base,
          steps: [{ op: 'pasid_alloc', vm: 'vm1', as: 'p', count: 1 }, { op: 'pasid_alloc', vm: 'vm2', as: 'q', count: 1 }, ...steps],
        } as unknown as Scenario;
        const run = await runEmbedded({ runId: 'fuzz', scenario, policy: FIXED, seed, hash: false });
        const r = buildReport({ runId: 'fuzz', entries: run.entries, scenario: { name: 'fuzz' }, policy: FIXED, engine: 'embedded', seed, wallMs: 0, reproduce: '' });
        requests += steps.length;
        expect(r.violations, JSON.stringify(r.violations.map((v) => `${v.invariant}: ${v.message}`))).toEqual([]);
        for (const o of r.outcomes) {
          if (o.ret < 0) expect(STANDARD_ERRNOS.has(errnoName(o.ret)!), `${o.op} returned ${o.ret}`).toBe(true);
        }
        // outputs are plain JSON
        expect(JSON.parse(JSON.stringify(run.entries))).toEqual(run.entries);
      }),
      { numRuns: RUNS, seed: 20260411 },
    );
    expect(requests).toBeGreaterThanOrEqual(10_000);
  });

  it('arbitrary JSON as a queue payload: each decider answers without throwing, a rejection carries an errno', async () => {
    // the components' states after a setup, folded from a recorded run
    const setup = await runEmbedded({ runId: 'set', scenario: { ...base, steps: [{ op: 'pasid_alloc', vm: 'vm1', as: 'p' }] } as unknown as Scenario, policy: FIXED, seed: 1, hash: false });
    const rts = Object.fromEntries(COMPONENTS.map((c) => [c, initialRuntime(c)])) as Record<Component, ComponentRuntime>;
    for (const e of setup.entries) if (e.kind === 'input') rts[e.component] = processInput(e.component, rts[e.component], e.payload as Envelope, { hash: false }).next;
    const targets: Array<[Component, string]> = [
      ['vfio-type1', 'VFIO_IOMMU_PASID_REQUEST'], ['vfio-type1', 'VFIO_IOMMU_NESTING_OP'], ['host-vtd', 'iommu_sva_bind_gpasid'],
      ['host-vtd', 'iommu_sva_unbind_gpasid'], ['host-vtd', 'iommu_cache_invalidate'], ['host-vtd', 'iommu_page_response'],
      ['host-vtd', 'page_request'], ['host-vtd', 'ats_translate'], ['mdev-parent', 'devtlb_invalidate'], ['mdev-parent', 'page_group_response'],
    ];
    const json = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(fc.constantFrom(...targets), fc.record({ vm: fc.oneof(fc.constant('vm1'), fc.string()), domain: fc.oneof(fc.constant(1), anyInt), dev: fc.oneof(fc.constant('6a:01.0'), fc.constant(null), fc.string()), req: json, op: json, data: json, info: json, msg: json, rid: fc.oneof(fc.constant('6a:01.0'), fc.string()), pasid: fc.oneof(anyInt, json), tag: fc.constant('t') }, { requiredKeys: ['tag'] }), ([to, type], payload) => {
        const env: Envelope = { runId: 'set', id: 'fuzz-1', type, from: to === 'mdev-parent' ? 'host-vtd' : to === 'host-vtd' ? 'vfio-type1' : 'guest-viommu', to, causationId: null, correlationId: 'set', lamport: 1, payload };
        const d = DECIDERS[to];
        const outs = d.decide(rts[to].state, env);
        let s = rts[to].state;
        for (const o of outs) s = d.evolve(s, o);
        // plain JSON: it serialises (undefined fields of a malformed payload are dropped, as on the wire)
        expect(() => JSON.stringify(outs)).not.toThrow();
        for (const o of outs) {
          const ret = (o.payload as { ret?: unknown }).ret;
          if (o.kind === 'command' && typeof ret === 'number' && ret < 0) expect(errnoName(ret), `${type} -> ${ret}`).toBeDefined();
        }
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});
