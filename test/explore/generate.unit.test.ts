import { describe, expect, it } from 'vitest';
import { generateScenario, mutateScenario, Rand, runSeed, swarmConfig, uniformConfig } from '../../libs/explore/src/index.js';
import { coverageOf } from '../../libs/explore/src/coverage.js';
import type { LogEntry } from '../../libs/contracts/src/index.js';
import type { Scenario } from '../../libs/scenario/src/index.js';

/** Generated programs of both modes, and a mutated child of each. */
function programs(n: number): Scenario[] {
  const out: Scenario[] = [];
  for (let i = 0; i < n; i++) {
    const r = new Rand(runSeed(7, i));
    const cfg = i % 2 ? swarmConfig(r) : uniformConfig(r);
    const sc = generateScenario(`g${i}`, r, cfg);
    if (!sc) continue;
    out.push(sc);
    for (let k = 0; k < 3; k++) {
      const child = mutateScenario(sc, r, cfg);
      if (child) out.push(child);
    }
  }
  return out;
}
const progs = programs(400);

describe('explore generator: what a real machine allows', () => {
  it('draws programs at all', () => {
    expect(progs.length).toBeGreaterThan(1000);
  });

  it('a device presents only a PASID its VM allocated or bound before, or 0', () => {
    let checked = 0;
    for (const sc of progs) {
      const vmOf = new Map(sc.vms.flatMap((v) => v.mdevs.map((m) => [m.id, v.id] as const)));
      const ok = (vm: string, pasid: number | string, before: number) => {
        if (pasid === 0) return true;
        const prior = sc.steps.slice(0, before);
        if (typeof pasid === 'string') return prior.some((s) => 'as' in s && s.as !== undefined && `$${s.as}` === pasid && 'vm' in s && s.vm === vm);
        return prior.some((s) => s.op === 'bind' && s.vm === vm && s.pasid === pasid);
      };
      sc.steps.forEach((s, i) => {
        if (s.op !== 'dma' && s.op !== 'page_request') return;
        checked++;
        expect(ok(vmOf.get(s.mdev)!, s.pasid, i), `${sc.name} step ${i}: ${JSON.stringify(s)}`).toBe(true);
      });
      for (const w of sc.workload) expect(ok(vmOf.get(w.mdev)!, w.pasid, w.from), `${sc.name} workload ${JSON.stringify(w)}`).toBe(true);
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('an IOMMU-backed parent without aux domains has its mdevs in one VM', () => {
    let seen = 0;
    for (const sc of progs) {
      for (const p of sc.parents.filter((x) => x.kind === 'iommu-backed' && x.aux === false)) {
        seen++;
        expect(sc.vms.filter((v) => v.mdevs.some((m) => m.parent === p.id)).length, `${sc.name} ${p.id}`).toBeLessThanOrEqual(1);
      }
    }
    expect(seen).toBeGreaterThan(10);
  });
});

describe('explore coverage: where the caches stand against the guest tables', () => {
  const ev = (seq: number, component: string, type: string, payload: object) => ({ seq, kind: 'event', component, type, payload }) as unknown as LogEntry;
  const rid = '6a:01.0';
  const base = [
    ev(1, 'host-vtd', 'pasid_entry.set', { dev: rid, pasid: 5, entry: { p: true, pgtt: 3, flptr: 0x100000, vm: 'vm1' } }),
    ev(2, 'host-vtd', 'mem.pte_written', { vm: 'vm1', table: 0x100, page: 0x400, pages: 1, gpa: 0x10 }),
    ev(3, 'host-vtd', 'translation.done', { rid, pasid: 5, page: 0x400, did: 2, vm: 'vm1', source: 'walk' }),
    ev(4, 'mdev-parent', 'devtlb.filled', { rid, pasid: 5, page: 0x400 }),
    ev(5, 'host-vtd', 'mem.pte_written', { vm: 'vm1', table: 0x100, page: 0x400, pages: 1, gpa: 0x20 }),
  ];
  const inval = (seq: number) => ev(seq, 'guest-viommu', 'wait_descriptor.completed', { vm: 'vm1', op: 'inval', pasid: 5, status: 'done', scope: { granularity: 'pasid', addr: 0, pages: 0 } });
  const hit = (seq: number) => ev(seq, 'mdev-parent', 'dma.completed', { rid, pasid: 5, page: 0x400, source: 'devtlb' });

  it('a PTE rewritten under a devTLB entry, then an invalidation that left it: each a signal', () => {
    const cov = coverageOf([...base, inval(6)]);
    expect(cov).toContain('derived:mem.pte_written under a devTLB entry');
    expect(cov).toContain('derived:invalidation done, a devTLB entry it covers stale');
  });

  it('a stale devTLB hit after the invalidation of it differs from one before any', () => {
    expect(coverageOf([...base, hit(6)])).not.toContain('derived:dma.completed source=devtlb stale after an invalidation of it');
    expect(coverageOf([...base, inval(6), hit(7)])).toContain('derived:dma.completed source=devtlb stale after an invalidation of it');
  });

  it('a flush that dropped the page leaves nothing stale', () => {
    const flushed = ev(6, 'mdev-parent', 'devtlb.invalidated', { rid, pasid: 5, pages: [0x400] });
    const cov = coverageOf([...base, flushed, inval(7)]);
    expect([...cov].filter((c) => c.includes('stale'))).toEqual([]);
  });
});
