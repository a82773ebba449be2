import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../libs/checkers/src/index.js';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { sequenceOf, toHtml, toMermaid, toSvg, type SequenceDiagram } from '../../libs/diagram/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

// Issue 13 point 1: a run drawn as a sequence diagram, checked structurally (the issue's "valid SVG,
// one lane per component, the violating arrow marked").

async function drawn(file: string, preset: string, o = {}) {
  const run = await runEmbedded({ runId: 'd', scenario: loadScenario(file), policy: resolvePolicy(preset), seed: 1 });
  const violations = checkHistory(run.entries).violations.map((v) => ({ invariant: v.invariant, message: v.message, events: v.events }));
  return { run, d: sequenceOf(run.entries, violations, `run ${run.runId}`, o) };
}
const SEED = 'scenarios/seed-null-iommu-device.yaml';

describe('the seed review\'s v1 run', () => {
  it('Mermaid: a participant per component; the window ends on the violation, its last arrow VFIO handing the NULL device to the host, then the oops', async () => {
    const { d } = await drawn(SEED, 'v1');
    const m = toMermaid(d);
    expect(m.startsWith('sequenceDiagram\n')).toBe(true);
    expect(m.match(/^ {2}participant /gm)).toHaveLength(5);
    const lines = m.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('%%') && l !== 'end' && !l.startsWith('rect'));
    const arrows = lines.filter((l) => /->>|-x/.test(l));
    expect(arrows[arrows.length - 1]).toMatch(/^vfio_type1->>host_vtd: iommu_sva_bind_gpasid .*dev=NULL.* @\d+→\d+$/);
    expect(lines[lines.length - 1]).toMatch(/^Note over host_vtd: ✖ oops .*fn=intel_svm_bind_gpasid @\d+$/);
    // the violating arrow is in a red box; the window says what it left out
    expect(m).toMatch(/rect rgb\(255, 214, 214\)\n {4}vfio_type1->>host_vtd: iommu_sva_bind_gpasid/);
    expect(m).toMatch(/Note over orchestrator,host_vtd: log entries \d+-\d+, \d+ before left out, \d+ after left out/);
    // nothing a Mermaid parser reads as a statement end or an entity inside a message
    for (const l of lines.filter((x) => x.includes(': '))) expect(l.slice(l.indexOf(': ') + 2)).not.toMatch(/[;#<>]/);
  });

  it('SVG: valid XML, one lane per component, the arrow VFIO -> host marked hot with both its log entries', async () => {
    const { d } = await drawn(SEED, 'v1');
    const svg = toSvg(d);
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg);
    const groups = ([] as Array<Record<string, string>>).concat(doc.svg.g);
    expect(groups.filter((g) => g.class === 'lane').map((g) => g['data-lane'])).toEqual(['orchestrator', 'guest-viommu', 'vfio-type1', 'mdev-parent', 'host-vtd']);
    const bind = d.items.find((i) => i.kind === 'arrow' && i.from === 'vfio-type1' && i.to === 'host-vtd' && i.hot)!;
    expect(groups.find((g) => g['data-seq'] === String(bind.seq))).toMatchObject({ class: 'arrow hot', 'data-recv': String((bind as { recv: number }).recv) });
    expect(groups.filter((g) => g.class === 'mark hot oops')).toHaveLength(1);
  });

  it('HTML: one file, no script, the violations listed with the entries they cite', async () => {
    const { d } = await drawn(SEED, 'v1');
    const html = toHtml(d);
    expect(html).not.toMatch(/<script|src=|href=/i);
    expect(html).toMatch(/<li><b>no-host-oops<\/b>: BUG: kernel NULL pointer dereference in intel_svm_bind_gpasid.*<span class="cites">\[#\d+/);
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
  });
});

describe('windows and lanes', () => {
  it('--from/--to and --lanes: only those entries and lanes, and it says what it left out', async () => {
    const { run, d } = await drawn(SEED, 'v1', { from: 100, to: 130, lanes: ['vfio', 'host'] });
    expect(d.lanes.map((l) => l.id)).toEqual(['vfio-type1', 'host-vtd']);
    expect(d.items.every((i) => i.seq >= 100 && i.seq <= 130)).toBe(true);
    expect(d.items.every((i) => (i.kind === 'arrow' ? [i.from, i.to] : [i.lane]).every((l) => ['vfio-type1', 'host-vtd'].includes(l)))).toBe(true);
    expect(d.window).toEqual({ from: 100, to: 130, before: 99, after: run.entries.length - 130 });
  });

  it('a passing run without --around ends on its last entry; --max bounds the window', async () => {
    const { run, d } = await drawn(SEED, 'v2', { max: 25 });
    expect(d.violations).toEqual([]);
    expect(d.window).toMatchObject({ from: run.entries.length - 24, to: run.entries.length, after: 0 });
  });

  it('the guest\'s vIOMMU gets a lane per VM where it serves several', async () => {
    const { d } = await drawn('scenarios/four-vms-two-parents-background.yaml', 'mainline', { max: 5000 });
    expect(d.lanes.filter((l) => l.component === 'guest-viommu').map((l) => l.label)).toEqual(expect.arrayContaining(['guest vm1', 'guest vm2', 'guest vm3', 'guest vm4']));
  });
});

describe('a run\'s text is data, never markup', () => {
  const hostile: SequenceDiagram = {
    title: 'run <script>alert(1)</script> & "x"',
    lanes: [{ id: 'host-vtd', component: 'host-vtd', label: 'host' }],
    items: [{ kind: 'mark', lane: 'host-vtd', seq: 1, what: 'event', label: 'why=<img src=x onerror=alert(1)>; #1', hot: false }],
    window: { from: 1, to: 1, before: 0, after: 0 },
    violations: [{ invariant: 'x', message: '</li><script>bad()</script>', events: [1] }],
  };

  it('SVG and HTML escape it; Mermaid defuses what it would read as markup or syntax', () => {
    for (const out of [toSvg(hostile), toHtml(hostile)]) {
      expect(out).not.toMatch(/<script|<img/);
      expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    expect(XMLValidator.validate(toSvg(hostile))).toBe(true);
    const m = toMermaid(hostile);
    expect(m).not.toMatch(/<script|<img/);
    expect(m).toContain('Note over host_vtd: why=‹img src=x onerror=alert(1)›, no.1 @1');
  });
});
