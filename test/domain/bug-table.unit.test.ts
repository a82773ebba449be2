import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHECKERS } from '../../libs/checkers/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { at, payloadOf, run } from './support.js';

const files = readdirSync('scenarios').filter((f) => f.endsWith('.yaml')).map((f) => `scenarios/${f}`);
const bugs = files.map((f) => ({ f, sc: loadScenario(f) })).filter((x) => x.sc.bug);

describe('the bug table of DOMAIN.md §4, one scenario per entry', () => {
  it('covers every entry but #4 and #15, which docs/bug-table.md argues', () => {
    expect(bugs.map((b) => b.sc.bug!.id).sort((a, b) => a - b)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19]);
  });

  for (const { f, sc } of bugs) {
    const bug = sc.bug!;
    it(`#${bug.id} ${sc.name}: declares a checked invariant and names itself after the bug`, () => {
      expect(CHECKERS.map((c) => c.name)).toContain(bug.invariant);
      expect(f).toBe(`scenarios/${sc.name}.yaml`);
      expect(bug.ref.length).toBeGreaterThan(5);
    });
    for (const seed of [1, 2, 3]) {
      it(`#${bug.id} ${sc.name} (seed ${seed}): fails under ${bug.buggy} with ${bug.invariant}, passes under ${bug.fixed}`, async () => {
        const buggy = await run(f, bug.buggy, bug.buggySet ?? {}, seed);
        expect(buggy.report.verdict).toBe('fail');
        const v = buggy.report.violations.filter((x) => x.invariant === bug.invariant);
        expect(v.length, JSON.stringify(buggy.report.violations)).toBeGreaterThan(0);
        // every cited sequence is an entry of the log
        for (const x of v) for (const s of x.events) expect(at(buggy, s).seq).toBe(s);
        const fixed = await run(f, bug.fixed, bug.fixedSet ?? {}, seed);
        expect(fixed.report.violations).toEqual([]);
        expect(fixed.report.verdict).toBe('pass');
      });
    }
  }
});

describe('violations cite the entries that prove them', () => {
  it('#12: pasid-ownership cites the owner allocation and the foreign bind on the host', async () => {
    const r = await run('scenarios/cross-vm-pasid-bind.yaml', 'v1');
    const v = r.report.violations.find((x) => x.invariant === 'pasid-ownership')!;
    const cited = v.events.map((s) => at(r, s));
    expect(cited.some((e) => e.type === 'ioasid.allocated' && payloadOf(e).set === 'vm1')).toBe(true);
    expect(cited.some((e) => e.type === 'svm.bound' && payloadOf(e).vm === 'vm2')).toBe(true);
  });

  it('#9: no-stale-translation cites the stale DMA, the PTE change and the completed wait descriptor', async () => {
    const r = await run('scenarios/devtlb-pasid-flush-user-range.yaml', 'v6');
    const v = r.report.violations.find((x) => x.invariant === 'no-stale-translation')!;
    const types = v.events.map((s) => at(r, s).type);
    expect(types).toEqual(['mem.pte_written', 'wait_descriptor.completed', 'dma.completed']);
    expect(payloadOf(at(r, v.events[2]!)).source).toBe('devtlb');
  });

  it('#2: bind-atomic cites the failed walk and the unbind its unwind made', async () => {
    const r = await run('scenarios/partial-bind-unwind-for-each-dev.yaml', 'v1');
    const v = r.report.violations.find((x) => x.invariant === 'bind-atomic')!;
    expect(v.events.map((s) => at(r, s).type).sort()).toEqual(['nesting_op.finished', 'svm.unbound']);
  });

  it('#10: drain-before-reuse cites the free and the page request still in the PRQ', async () => {
    const r = await run('scenarios/prq-no-drain-pasid-reuse.yaml', 'mainline', { 'vtd.drain_prq': false });
    const v = r.report.violations.find((x) => x.invariant === 'drain-before-reuse')!;
    expect(v.events.map((s) => at(r, s).type).sort()).toEqual(['ioasid.freed', 'page_request.issued']);
  });
});

describe('the two seed scenarios keep their meaning', () => {
  it('seed-null-iommu-device: v1 fails with no-host-oops, v2 passes with the bind at -EINVAL', async () => {
    const v1 = await run('scenarios/seed-null-iommu-device.yaml', 'v1');
    expect(v1.report.verdict).toBe('fail');
    expect(v1.report.violations.map((v) => v.invariant)).toContain('no-host-oops');
    const v2 = await run('scenarios/seed-null-iommu-device.yaml', 'v2');
    expect(v2.report.verdict).toBe('pass');
    expect(v2.report.outcomes.find((o) => o.op === 'bind')).toMatchObject({ result: 'EINVAL', ret: -22 });
  });

  it('non-iommu-mdev-external-domain: passes under v1 and v7 with -EOPNOTSUPP for the nesting ops; v2 refuses them with -ENOTSUPP (524, bug #14)', async () => {
    for (const p of ['v1', 'v7']) {
      const r = await run('scenarios/non-iommu-mdev-external-domain.yaml', p);
      expect(r.report.verdict, p).toBe('pass');
      expect(r.report.outcomes.filter((o) => o.op === 'bind' || o.op === 'iotlb_invalidate').map((o) => o.ret)).toEqual([-95, -95]);
    }
    const v2 = await run('scenarios/non-iommu-mdev-external-domain.yaml', 'v2');
    expect(v2.report.outcomes.filter((o) => o.op === 'bind' || o.op === 'iotlb_invalidate').map((o) => o.ret)).toEqual([-524, -524]);
    expect(v2.report.violations.map((v) => v.invariant)).toEqual(['uapi-errno', 'uapi-errno', 'uapi-errno']);
    expect(v2.entries.some((e) => e.type === 'oops')).toBe(false);
  });
});
