import { describe, expect, it } from 'vitest';
import { resolvePolicy, type LogEntry } from '../../libs/contracts/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { buildReport } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { filterRuns, runListPage } from '../../apps/ui/src/pages/run-list.js';
import { initialSeq, runPage } from '../../apps/ui/src/pages/run-page.js';
import { summaryOf, type OpenRun } from '../../apps/ui/src/run-catalog.js';
import { stateAt } from '../../apps/ui/src/state-view.js';

// Issue 13 points 2-3, what the dashboard's pages are made of, without a server: the state folded to
// the cursor, the page's first cursor, and run text that stays text.

const SEED = 'scenarios/seed-null-iommu-device.yaml';

async function openRun(preset: string, edit?: (sc: ReturnType<typeof loadScenario>) => void): Promise<OpenRun> {
  const scenario = loadScenario(SEED);
  edit?.(scenario);
  const policy = resolvePolicy(preset);
  const run = await runEmbedded({ runId: `ui-${preset}`, scenario, policy, seed: 1 });
  const meta = { runId: run.runId, scenario: { name: scenario.name }, policy, seed: 1, engine: 'embedded' as const, startedAt: 0, status: 'finished' as const };
  const report = buildReport({ runId: run.runId, entries: run.entries, scenario: meta.scenario, policy, engine: 'embedded', seed: 1, wallMs: 0, reproduce: '' });
  return { meta, origin: { kind: 'file', path: 'x.ndjson' }, entries: run.entries, report };
}

const oopsSeq = (entries: LogEntry[]) => entries.find((e) => e.kind === 'event' && e.type === 'oops')!.seq;

describe('the state at the cursor', () => {
  it('at the v1 oops, the host has just consumed the bind VFIO handed it with a NULL device, and shows the oops; one entry before, neither', async () => {
    const run = await openRun('v1');
    const at = oopsSeq(run.entries);
    const host = stateAt(run.entries, at).components.find((c) => c.component === 'host-vtd')!;
    expect(host.consumed).toMatchObject({ seq: at - 1, type: 'iommu_sva_bind_gpasid' });
    expect(host.consumed!.brief).toMatch(/mdev=mdev2 dev=NULL/);
    expect(host.sections[0]).toEqual({ title: 'OOPS', value: { fn: 'intel_svm_bind_gpasid' } });
    const before = stateAt(run.entries, at - 2).components.find((c) => c.component === 'host-vtd')!;
    expect(before.sections.map((s) => s.title)).not.toContain('OOPS');
    expect(before.consumed!.brief).not.toMatch(/dev=NULL/);
  });

  it('folds each component\'s own inputs: under v2, VFIO\'s vfio_mm holds the PASID allocated, the parent has dropped mdev2\'s IOMMU device', async () => {
    const run = await openRun('v2');
    const end = stateAt(run.entries, run.entries.length);
    const vfio = end.components.find((c) => c.component === 'vfio-type1')!;
    const mdev = end.components.find((c) => c.component === 'mdev-parent')!;
    expect(vfio.sections.find((s) => s.title === 'vfio_mm PASIDs by VM')!.value).toEqual({ vm1: [3] });
    expect(vfio.sections.filter((s) => s.title.startsWith('container '))).toHaveLength(2);
    expect(mdev.sections.find((s) => s.title === 'mdevs (iommu_device)')!.value).toMatchObject({ mdev1: { iommuDevice: '6a:01.0' }, mdev2: { iommuDevice: null } });
    expect(stateAt(run.entries, 0).components.every((c) => c.consumed === null && c.inputs === 0)).toBe(true);
  });
});

describe('the run page', () => {
  it('opens on the entry the first violation ends on, else where it was asked to, else the run\'s end', async () => {
    const v1 = await openRun('v1');
    expect(initialSeq(v1)).toBe(Math.max(...v1.report.violations[0]!.events));
    expect(initialSeq(v1, 3)).toBe(3);
    expect(initialSeq(v1, 10_000)).toBe(initialSeq(v1));
    const v2 = await openRun('v2');
    expect(v2.report.verdict).toBe('pass');
    expect(initialSeq(v2)).toBe(v2.entries.length);
  });

  it('shows a scenario\'s description as text: a <script> in it is escaped, and the only scripts are the dashboard\'s own', async () => {
    const run = await openRun('v1', (sc) => {
      sc.description = 'evil <script>window.__pwned = 1</script> & "quotes"';
    });
    const html = runPage(run);
    expect(html).toContain('evil &lt;script&gt;window.__pwned = 1&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/assets/run-page.js">']);
  });
});

describe('the run list', () => {
  it('filters by every word and by verdict', async () => {
    const rows = [summaryOf(await openRun('v1')), summaryOf(await openRun('v2'))];
    expect(filterRuns(rows, { verdict: 'fail' }).map((r) => r.policy)).toEqual(['v1']);
    expect(filterRuns(rows, { q: 'seed-null V2' }).map((r) => r.policy)).toEqual(['v2']);
    expect(filterRuns(rows, { q: 'seed-null nosuch' })).toEqual([]);
    const html = runListPage(rows, { q: '<b>' }, 'files', []);
    expect(html).toContain('value="&lt;b&gt;"');
    expect(html).toContain('0 of 2 run(s)');
  });
});
