import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resolvePolicy, type Envelope, type LogEntry } from '../../libs/contracts/src/index.js';
import type { RunReport } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { driveCluster, startTestCluster, type ClusterDriver, type TestCluster } from '../support/cluster.js';

let cluster: TestCluster;
let driver: ClusterDriver;
let n = 0;

async function run(file: string, preset: string): Promise<{ report: RunReport; entries: LogEntry[] }> {
  const scenario = loadScenario(file);
  const runId = `e2e-${preset}-${++n}`;
  const report = await driver.run({ runId, scenario, file, policy: resolvePolicy(preset), seed: 1, reproduce: 'test' });
  return { report, entries: await driver.log.read(runId) };
}

const payloadOf = (e: LogEntry) => (e.kind === 'input' ? (e.payload as Envelope).payload : e.payload) as Record<string, unknown>;

beforeAll(async () => {
  cluster = await startTestCluster(inject('redisUrl'), 'e2e');
  driver = driveCluster(cluster);
});

afterAll(async () => {
  await driver?.close();
  await cluster?.stop();
});

describe('the seed bug in the cluster engine (five processes over BullMQ)', () => {
  it('under v1 a NULL iommu device reaches intel_svm_bind_gpasid: the host oopses and no-host-oops cites it', async () => {
    const { report, entries } = await run('scenarios/seed-null-iommu-device.yaml', 'v1');
    expect(report.engine).toBe('cluster');
    expect(report.verdict).toBe('fail');
    const oops = report.violations.find((v) => v.invariant === 'no-host-oops');
    expect(oops).toBeDefined();
    // the cited sequences include the host's oops event and the VFIO command that handed it NULL
    const cited = oops!.events.map((s) => entries[s - 1]!);
    expect(cited.some((e) => e.kind === 'event' && e.component === 'host-vtd' && e.type === 'oops' && payloadOf(e).fn === 'intel_svm_bind_gpasid')).toBe(true);
    expect(cited.some((e) => e.kind === 'command' && e.component === 'vfio-type1' && e.type === 'iommu_sva_bind_gpasid' && payloadOf(e).dev === null)).toBe(true);
    expect(report.violations.some((v) => v.invariant === 'iommu-device-valid')).toBe(true);
    const bind = report.outcomes.find((o) => o.op === 'bind')!;
    expect(bind.result).toBe('oops');
    // the log is the truth: contiguous sequences, every cross-service command recorded with its receiver
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.filter((e) => e.kind === 'command').every((e) => e.to && e.lamport > 0 && e.causationId)).toBe(true);
  });

  it('under v2 VFIO answers -EINVAL (22) to the guest and no NULL device reaches the host driver', async () => {
    const { report, entries } = await run('scenarios/seed-null-iommu-device.yaml', 'v2');
    expect(report.verdict).toBe('pass');
    expect(report.violations).toEqual([]);
    const bind = report.outcomes.find((o) => o.op === 'bind')!;
    expect(bind.ret).toBe(-22);
    expect(bind.result).toBe('EINVAL');
    const hostCalls = entries.filter((e) => e.kind === 'input' && e.component === 'host-vtd' && e.type.startsWith('iommu_'));
    expect(hostCalls.length).toBeGreaterThan(0);
    expect(hostCalls.every((e) => payloadOf(e).dev !== null)).toBe(true);
    // VFIO unwound mdev1's bind when mdev2 failed
    expect(entries.some((e) => e.component === 'host-vtd' && e.type === 'svm.unbound' && payloadOf(e).unwind === true)).toBe(true);
    expect(report.checked).toEqual(expect.arrayContaining(['no-host-oops', 'iommu-device-valid']));
  });

  it('a non-IOMMU-backed mdev goes to external_domain and its NESTING_OP gets -EOPNOTSUPP under v1 and v7, with no oops', async () => {
    for (const preset of ['v1', 'v7']) {
      const { report, entries } = await run('scenarios/non-iommu-mdev-external-domain.yaml', preset);
      expect(report.verdict, preset).toBe('pass');
      expect(entries.some((e) => e.type === 'group.attached' && payloadOf(e).where === 'external_domain')).toBe(true);
      const bind = report.outcomes.find((o) => o.op === 'bind')!;
      expect(bind.ret).toBe(-95);
      expect(entries.some((e) => e.type === 'oops')).toBe(false);
    }
  });
});
