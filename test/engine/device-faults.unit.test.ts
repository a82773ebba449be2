import { describe, expect, it } from 'vitest';
import { resolvePolicy, type LogEntry } from '../../libs/contracts/src/index.js';
import { checkHistory } from '../../libs/checkers/src/index.js';
import { replayEntries, runEmbedded } from '../../libs/engine/src/index.js';
import { buildReport, type RunReport } from '../../libs/runtime/src/index.js';
import { parseScenario, ScenarioError } from '../../libs/scenario/src/index.js';

// The device and hardware faults a chaos run injects are steps of the scenario (device_fault,
// fault_storm, device_remove), so they are events of the model: in the log, replayed exactly, judged
// by the same checkers. What a user relies on, run by the embedded engine.

const HEAD = `name: device-faults
description: injected device and hardware faults
parents:
  - { id: dsa0, kind: iommu-backed, rid: "6a:01.0" }
vms:
  - id: vm1
    mdevs:
      - { id: mdev1, parent: dsa0 }
steps:
  - { op: pasid_alloc, vm: vm1, as: p, expect: ok }
  - { op: bind, vm: vm1, pasid: $p, gpgd: 0x100000, expect: ok }
`;

interface Run {
  report: RunReport;
  entries: LogEntry[];
  /** the events of `component` of this type, payloads in log order */
  events: (component: string, type: string) => Array<Record<string, unknown>>;
}

async function run(steps: string, preset: string, host = ''): Promise<Run> {
  const scenario = parseScenario(host + HEAD + steps, 'device-faults.yaml');
  const policy = resolvePolicy(preset);
  const r = await runEmbedded({ runId: `df-${preset}`, scenario, policy, seed: 1 });
  const report = buildReport({ runId: `df-${preset}`, entries: r.entries, scenario: { name: scenario.name }, policy, engine: 'embedded', seed: 1, wallMs: 0, reproduce: '' });
  const events = (component: string, type: string) => r.entries.filter((e) => e.kind === 'event' && e.component === component && e.type === type).map((e) => e.payload as Record<string, unknown>);
  return { report, entries: r.entries, events };
}
const outcome = (r: Run, op: string) => r.report.outcomes.find((o) => o.op === op && o.phase === 'scenario');

describe('device_fault ite on a present ATS device during an unbind', () => {
  const steps = `  - { op: device_fault, parent: dsa0, fault: ite, count: 2 }
  - { op: unbind, vm: vm1, pasid: $p, expect: ok }
`;

  it('two ITEs, each resubmitted; the unbind completes with ok and the run passes, under v8 and mainline', async () => {
    for (const preset of ['v8', 'mainline']) {
      const r = await run(steps, preset);
      expect(r.report.verdict, JSON.stringify(r.report.violations)).toBe('pass');
      expect(outcome(r, 'device_fault')).toMatchObject({ result: 'ok' });
      expect(outcome(r, 'unbind')).toMatchObject({ result: 'ok', asExpected: true });
      expect(r.events('host-vtd', 'qi.ite').map((e) => e.attempt)).toEqual([1, 2]);
      expect(r.events('host-vtd', 'qi.resubmitted')).toHaveLength(2);
      expect(r.events('mdev-parent', 'devtlb.timed_out').map((e) => e.left)).toEqual([1, 0]);
      expect(r.events('host-vtd', 'qi.hung')).toEqual([]);
      expect(r.events('host-vtd', 'svm.unbound')).toEqual([expect.objectContaining({ drained: true })]);
      expect(replayEntries(r.entries)).toMatchObject({ identical: true });
    }
  });

  it('the kernel\'s log: nothing on v8 (v5.10 qi_check_fault), two lines per ITE on mainline', async () => {
    expect((await run(steps, 'v8')).report.dmesg).toEqual([]);
    const texts = (await run(steps, 'mainline')).report.dmesg.map((d) => d.text);
    expect(texts).toEqual(Array(2).fill(['DMAR: VT-d detected Invalidation Time-out Error: SID 6a08', 'DMAR: Invalidation Time-out Error (ITE) cleared']).flat());
  });

  it('the absent device stays bug #16: v8 hangs (liveness), mainline skips the flush', async () => {
    const removed = `  - { op: device_remove, parent: dsa0, expect: ok }
  - { op: unbind, vm: vm1, pasid: $p, expect: ok }
`;
    const v8 = await run(removed, 'v8');
    expect(v8.report.violations.map((v) => v.invariant)).toContain('liveness');
    expect(v8.events('host-vtd', 'qi.resubmitted')).toEqual([]);
    const mainline = await run(removed, 'mainline');
    expect(mainline.report.verdict).toBe('pass');
    expect(mainline.events('host-vtd', 'qi.devtlb_skipped')).not.toEqual([]);
  });
});

describe('a page request pending when its device is surprise-removed, then the unbind', () => {
  it('is answered INVALID once, by the drain\'s pass (its sdev already unlinked): the drain goes on over the state the PRQ pass left (found by chaos)', async () => {
    // the absent device's devTLB flush is skipped (mainline), so the drain does not wait: it used to run
    // over the state from before the pass and handle the request a second time
    // the PRQ interrupt held, as in prq-no-drain-pasid-reuse: the request waits in the queue for the drain
    const r = await run(`  - { op: page_request, mdev: mdev1, pasid: $p, va: 0x500000 }
  - { op: device_remove, parent: dsa0 }
  - { op: unbind, vm: vm1, pasid: $p, expect: ok }
  - { op: pasid_free, vm: vm1, pasid: $p, expect: ok }
`, 'mainline', 'host: { prq_irq: manual }\n');
    expect(r.events('host-vtd', 'page_request.reported')).toEqual([]);
    expect(r.events('host-vtd', 'page_response.sent')).toMatchObject([{ code: 'INVALID', by: 'prq_event_thread' }]);
    expect(r.events('host-vtd', 'prq.pass_done')).toHaveLength(1);
    expect(r.report.violations).toEqual([]);
  });
});

describe('device_fault prq_overflow on a page request with LPIG', () => {
  const steps = `  - { op: device_fault, parent: dsa0, fault: prq_overflow }
  - { op: page_request, mdev: mdev1, pasid: $p, va: 0x5000, lpig: true }
  - { op: page_request, mdev: mdev1, pasid: $p, va: 0x6000, lpig: false }
`;

  it('the hardware answers the group Success itself; the device has its one response, and page-response passes', async () => {
    for (const preset of ['v2', 'v8', 'mainline']) {
      const r = await run(steps, preset);
      expect(r.report.verdict, `${preset}: ${JSON.stringify(r.report.violations)}`).toBe('pass');
      expect(r.events('host-vtd', 'prq.overflow')[0]).toMatchObject({ lpig: true, pro: 'set', consumed: true });
      expect(r.events('host-vtd', 'page_response.sent')[0]).toMatchObject({ code: 'SUCCESS', by: 'hardware' });
      expect(r.events('mdev-parent', 'page_response.received')).toEqual([expect.objectContaining({ code: 0, matched: true })]);
      // the software never saw it (the second request, once the injection is spent, it may)
      const prg = r.events('host-vtd', 'prq.overflow')[0]!.prg;
      expect(r.events('host-vtd', 'page_request.reported').filter((e) => e.prg === prg)).toEqual([]);
    }
  });

  it('the auto-response is what page-response counts: the log without it fails the run', async () => {
    const r = await run(steps, 'mainline');
    const without = r.entries.filter((e) => !(e.kind === 'event' && e.component === 'mdev-parent' && e.type === 'page_response.received'));
    expect(checkHistory(without).violations.map((v) => v.invariant)).toContain('page-response');
  });

  it('the request after it: queued again once the injection is spent, except on v1/v2 whose kernel never clears PRO', async () => {
    const mainline = await run(steps, 'mainline');
    expect(mainline.events('host-vtd', 'prq.queued')).toHaveLength(1);
    expect(mainline.report.dmesg.map((d) => d.text)).toEqual(['IOMMU: dmar0: PRQ overflow detected', 'IOMMU: dmar0: PRQ overflow cleared']);
    const v2 = await run(steps, 'v2');
    expect(v2.events('host-vtd', 'prq.queued')).toEqual([]);
    expect(v2.events('host-vtd', 'prq.overflow')[1]).toMatchObject({ lpig: false, pro: 'already set', consumed: false });
  });
});

describe('fault_storm of 16', () => {
  it('16 faults recorded with their reason, the log bounded by dmar_fault\'s ratelimit, the run passes', async () => {
    for (const preset of ['v1', 'v8', 'mainline']) {
      const r = await run('  - { op: fault_storm, mdev: mdev1, count: 16 }\n', preset);
      expect(r.report.verdict, `${preset}: ${JSON.stringify(r.report.violations)}`).toBe('pass');
      expect(outcome(r, 'fault_storm')).toMatchObject({ result: 'ok' });
      const faults = r.events('host-vtd', 'fault.recorded');
      expect(faults).toHaveLength(16);
      expect(new Set(faults.map((f) => f.reason))).toEqual(new Set([0x59]));
      expect(r.report.dmesg).toHaveLength(10);
      expect(r.events('host-vtd', 'dmar_fault.handled')).toEqual([{ records: 16, printed: 10, suppressed: 7 }]);
    }
  });
});

describe('in the background', () => {
  it('device_fault, fault_storm and device_remove run beside the foreground and complete', async () => {
    const r = await run(`  - { op: device_fault, parent: dsa0, fault: ite, background: true }
  - { op: fault_storm, mdev: mdev1, count: 4, background: true }
  - { op: quiesce }
  - { op: device_remove, parent: dsa0, background: true }
  - { op: quiesce }
`, 'mainline');
    expect(r.report.verdict).toBe('pass');
    const done = r.events('orchestrator', 'step.completed').filter((c) => c.background);
    expect(done.map((c) => [c.op, c.got])).toEqual([['device_fault', 'ok'], ['fault_storm', 'ok'], ['device_remove', 'ok']]);
  });
});

describe('a bad argument is a ScenarioError naming the field', () => {
  const problems = (step: string) => {
    try {
      parseScenario(`${HEAD}  - ${step}\n`, 'bad.yaml');
    } catch (e) {
      if (e instanceof ScenarioError) return e.problems;
      throw e;
    }
    throw new Error('no ScenarioError');
  };

  it('an unknown parent or mdev, a count out of range, an unknown fault', () => {
    expect(problems('{ op: device_fault, parent: nope, fault: ite }')).toEqual([{ path: 'steps[2].parent', message: "no parent 'nope'" }]);
    expect(problems('{ op: device_fault, parent: dsa0, fault: ite, count: 0 }')).toEqual([{ path: 'steps[2].count', message: expect.stringMatching(/>=\s*1/) }]);
    expect(problems('{ op: device_fault, parent: dsa0, fault: ite, count: 17 }')).toEqual([{ path: 'steps[2].count', message: expect.stringMatching(/<=\s*16/) }]);
    expect(problems('{ op: device_fault, parent: dsa0, fault: melt }')).toEqual([{ path: 'steps[2].fault', message: "'melt' is not a device fault: ite or prq_overflow" }]);
    expect(problems('{ op: device_fault, parent: dsa0 }')).toEqual([{ path: 'steps[2].fault', message: expect.any(String) }]);
    expect(problems('{ op: fault_storm, mdev: nope }')).toEqual([{ path: 'steps[2].mdev', message: "no mdev 'nope'" }]);
    expect(problems('{ op: fault_storm, mdev: mdev1, count: 65 }')).toEqual([{ path: 'steps[2].count', message: expect.stringMatching(/<=\s*64/) }]);
    expect(problems('{ op: device_remove, parent: dsa0, background: maybe }')).toEqual([{ path: 'steps[2].background', message: expect.any(String) }]);
  });
});
