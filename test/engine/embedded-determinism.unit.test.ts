import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { runEmbedded, type EmbeddedRunOptions, type FaultOptions } from '../../libs/engine/src/index.js';
import { writeNdjson } from '../../libs/event-log/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

// A run of the embedded engine is a function of (scenario, policy, seed, version), faults included:
// they draw from the seed too, from a stream of their own.

const dir = mkdtempSync(join(tmpdir(), 'vsva-emb-det-'));
const scenario = loadScenario('scenarios/prq-no-drain-pasid-reuse.yaml');
const policy = resolvePolicy('v8', { 'vtd.drain_prq': false });
let n = 0;

/** The run exported as the CLI exports it: the bytes of the file. */
async function exported(seed: number, faults?: FaultOptions): Promise<{ bytes: Buffer; faults: unknown }> {
  const o: EmbeddedRunOptions = { runId: 'det', scenario, policy, seed, faults, snapshotEvery: 20 };
  const r = await runEmbedded(o);
  const file = join(dir, `${++n}.ndjson`);
  await writeNdjson({ runId: o.runId, scenario: { name: scenario.name }, policy, seed, engine: 'embedded', startedAt: 0, status: 'finished' }, r.entries, file, 'test', { exportedAt: null });
  return { bytes: readFileSync(file), faults: r.faults };
}

describe('the same seed, the same export, byte for byte', () => {
  it('without faults', async () => {
    const [a, b] = [await exported(11), await exported(11)];
    expect(a.bytes.equals(b.bytes)).toBe(true);
    // no ts on the entries: nothing of the wall clock in the file
    expect(a.bytes.toString()).not.toMatch(/"ts":/);
    expect((await exported(12)).bytes.equals(a.bytes)).toBe(false);
  });

  it('with every fault drawn from the seed: the same faults at the same places', async () => {
    const faults = { duplicate: 0.2, crash: 0.2, holdBack: 0.1 };
    const [a, b] = [await exported(11, faults), await exported(11, faults)];
    expect(a.faults).toEqual(b.faults);
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect((a.faults as { holdBack: number }).holdBack).toBeGreaterThan(0);
  });

  it('duplicates and crashes do not move the scheduler: the export is the fault-free one', async () => {
    const clean = await exported(11);
    const faulty = await exported(11, { duplicate: 0.3, crash: 0.3 });
    expect(faulty.faults).toMatchObject({ duplicate: expect.any(Number) });
    expect((faulty.faults as { duplicate: number }).duplicate).toBeGreaterThan(0);
    expect(faulty.bytes.equals(clean.bytes)).toBe(true);
  });
});

describe('a job its receiver puts off (it came before the run.open it needs)', () => {
  it('waits until another delivery is done, so the default order (bias 1) does not draw it and its channel-mate in turn for ever', async () => {
    const sc = loadScenario(new URL('./fixtures/put-off-before-run-open.yaml', import.meta.url).pathname);
    // the pin comes before the container has an IOMMU driver: vfio_pin_pages answers -ENODEV
    for (const bias of [1, 0.5, 0]) {
      const r = await runEmbedded({ runId: `off-${bias}`, scenario: sc, policy: resolvePolicy('mainline'), seed: 1, bias, maxDeliveries: 20_000 });
      const done = r.entries.filter((e) => e.kind === 'event' && e.type === 'step.completed' && e.component === 'orchestrator').map((e) => (e.payload as { op: string; got: string }));
      expect(done.map((c) => `${c.op}:${c.got}`), `bias ${bias}`).toEqual(['mdev_create:ok', 'pin_pages:ENODEV', 'vfio_set_iommu:ok', 'vfio_attach_group:ok']);
    }
  });
});
