import { describe, expect, it } from 'vitest';
import { payloadOf, run } from './support.js';

const FILE = 'scenarios/four-vms-two-parents-background.yaml';

describe('four VMs sharing two parents, with background DMA and page requests', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`runs clean under mainline (seed ${seed})`, async () => {
      const r = await run(FILE, 'mainline', {}, seed);
      expect(r.report.violations).toEqual([]);
      expect(r.report.checked).toEqual(expect.arrayContaining(['dma-isolation', 'no-stale-translation', 'page-response', 'drain-before-reuse', 'pasid-ownership']));
    });
  }

  it('device activity interleaves with the guests\' control operations', async () => {
    const r = await run(FILE, 'mainline', {}, 1);
    const seqOf = (pred: (e: (typeof r.entries)[number]) => boolean) => r.entries.filter(pred).map((e) => e.seq);
    const dmas = seqOf((e) => e.type === 'dma.completed');
    const binds = seqOf((e) => e.type === 'svm.bound');
    const unbinds = seqOf((e) => e.type === 'svm.unbound');
    const invals = seqOf((e) => e.type === 'wait_descriptor.completed');
    expect(dmas.length).toBeGreaterThan(50);
    // DMA completes between a bind and an unbind, and between invalidations
    expect(dmas.some((d) => d > binds[3]! && d < unbinds[0]!)).toBe(true);
    expect(dmas.some((d) => d > invals[0]! && d < invals[invals.length - 1]!)).toBe(true);
    // every page request was reported to the VM that owns the (RID, PASID) and answered
    const reported = r.entries.filter((e) => e.type === 'page_request.reported');
    expect(reported.length).toBeGreaterThan(0);
    for (const e of reported) expect(String(payloadOf(e).vm).slice(2)).toBe(String(payloadOf(e).mdev).slice(2));
    expect(new Set(reported.map((e) => payloadOf(e).mdev))).toEqual(expect.objectContaining({ size: expect.any(Number) }));
    expect(reported.some((e) => payloadOf(e).mdev === 'wq1')).toBe(true);
  });

  it('every DMA lands in its own VM\'s memory and is attributed to it', async () => {
    const r = await run(FILE, 'mainline', {}, 2);
    const vms = payloadOf(r.entries.find((e) => e.type === 'host.configured')!).vms as Record<string, { base: number; ram: number }>;
    for (const e of r.entries.filter((x) => x.type === 'dma.completed')) {
      const p = payloadOf(e) as { vm: string; hpa: number };
      const { base, ram } = vms[p.vm]!;
      expect(p.hpa >= base && p.hpa < base + ram).toBe(true);
    }
  });

  it('the same seed gives the same log', async () => {
    const a = (await run(FILE, 'mainline', {}, 9)).entries.map((e) => `${e.type}|${JSON.stringify(e.payload)}`);
    const b = (await run(FILE, 'mainline', {}, 9)).entries.map((e) => `${e.type}|${JSON.stringify(e.payload)}`);
    expect(a).toEqual(b);
  });
});
