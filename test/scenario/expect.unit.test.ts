import { describe, expect, it } from 'vitest';
import { isEvent } from '../../libs/contracts/src/index.js';
import { StepLabels, timelineLine } from '../../libs/engine/src/index.js';
import { formatReport } from '../../apps/cli/src/format.js';
import { parseScenario } from '../../libs/scenario/src/index.js';
import { run } from '../domain/support.js';
import { problemsOf } from './sized.js';

// Issue 10 point 7: a manual setup step is judged by its `expect` like any other step, and `expect`
// takes alternatives, `{ oneOf: [EACCES, ENOENT] }`, alone or per preset.

/**
 * One VM with two groups in one nesting container: setup attaches g1, the scenario attaches g2 and
 * expects `expect`, naming vm1's first container. Under the singleton rule (vfio.singleton_nesting_container, v2+) the second
 * attach is -EINVAL (vfio_iommu_type1_attach_group).
 */
const secondGroup = (expectYaml: string) => `name: second-group
description: a second group into a nesting container
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]
vms:
  - id: vm1
    mdevs:
      - { id: m1, parent: dsa0, group: g1 }
      - { id: m2, parent: dsa0, group: g2, attach: manual }
steps:
  - { op: vfio_attach_group, vm: vm1, group: g2, container: vm1, expect: ${expectYaml} }
  - { op: pasid_alloc, vm: vm1, expect: ok }
`;

/** The run of secondGroup(expect) under `preset`: its verdict, its violations, and the attach step's outcome. */
async function attach(expectYaml: string, preset = 'v7', set = {}) {
  const r = await run(secondGroup(expectYaml), preset, set);
  const step = r.report.outcomes.find((o) => o.phase === 'scenario' && o.op === 'vfio_attach_group')!;
  return { ...r, step, messages: r.report.violations.map((v) => `${v.invariant}: ${v.message}`) };
}

describe('a manual attach_group step is judged by its expect', () => {
  it('the second group of a v7 nesting container is -EINVAL: expect EINVAL passes, and the run goes on', async () => {
    const r = await attach('EINVAL');
    expect(r.step).toMatchObject({ phase: 'scenario', scenarioIndex: 0, result: 'EINVAL', expected: 'EINVAL', asExpected: true });
    expect(r.report.verdict).toBe('pass');
    // the step after it ran: a failed manual setup step does not end the run
    expect(r.report.outcomes.filter((o) => o.phase === 'scenario').map((o) => o.result)).toEqual(['EINVAL', 'ok']);
    // setup attached g1 only: g2 was the scenario's own step
    expect(r.report.outcomes.filter((o) => o.phase === 'setup').map((o) => o.op)).toEqual(['mdev_create', 'mdev_create', 'vfio_set_iommu', 'vfio_attach_group']);
  });

  it('the same step expecting ok fails the expectation, naming the step', async () => {
    const r = await attach('ok');
    expect(r.report.verdict).toBe('fail');
    expect(r.messages).toEqual(['expected-outcome: steps[0] plan[4] (vfio_attach_group) returned EINVAL, the scenario expects ok']);
  });

  it('without the singleton rule (v1) the attach succeeds: a per-preset expect says so', async () => {
    const v1 = await attach('{ v1: ok, default: EINVAL }', 'v1');
    expect(v1.step).toMatchObject({ result: 'ok', expected: 'ok', asExpected: true });
    const v7 = await attach('{ v1: ok, default: EINVAL }', 'v7');
    expect(v7.step).toMatchObject({ result: 'EINVAL', expected: 'EINVAL', asExpected: true });
  });
});

describe('expect: { oneOf: [...] }', () => {
  it('passes for either alternative, wherever it stands in the list', async () => {
    for (const alts of ['[EINVAL, EACCES]', '[EACCES, EINVAL]']) {
      const r = await attach(`{ oneOf: ${alts} }`);
      expect(r.report.verdict, alts).toBe('pass');
      expect(r.step.asExpected).toBe(true);
    }
    // and the alternative that is not the error: v1 attaches
    expect((await attach('{ oneOf: [ok, EINVAL] }', 'v1')).step).toMatchObject({ result: 'ok', asExpected: true });
  });

  it('fails for a third outcome; the report, the checker and the timeline show what was expected as EACCES|ENOENT', async () => {
    const r = await attach('{ oneOf: [EACCES, ENOENT] }');
    expect(r.report.verdict).toBe('fail');
    expect(r.step).toMatchObject({ result: 'EINVAL', expected: 'EACCES|ENOENT', asExpected: false });
    expect(r.messages).toEqual(['expected-outcome: steps[0] plan[4] (vfio_attach_group) returned EINVAL, the scenario expects EACCES|ENOENT']);
    expect(formatReport(r.report)).toMatch(/steps\[0\] plan\[4\] vfio_attach_group\s+-EINVAL.*EXPECTED EACCES\|ENOENT/);
    const labels = new StepLabels();
    const lines = r.entries.map((e) => ({ e, line: timelineLine(e, labels) }));
    const done = lines.find(({ e }) => isEvent(e, 'orchestrator', 'step.completed') && e.payload.op === 'vfio_attach_group' && e.payload.phase === 'scenario')!;
    expect(done.line).toMatch(/steps\[0\] plan\[4\] op=vfio_attach_group .*got=EINVAL expected=EACCES\|ENOENT/);
  });

  it('inside a per-preset map: { v1: ok, default: { oneOf: [...] } }', async () => {
    const map = '{ v1: ok, default: { oneOf: [EBUSY, EINVAL] } }';
    expect((await attach(map, 'v7')).step).toMatchObject({ result: 'EINVAL', expected: 'EBUSY|EINVAL', asExpected: true });
    expect((await attach(map, 'v1')).step).toMatchObject({ result: 'ok', expected: 'ok', asExpected: true });
    expect((await attach('{ v1: ok, default: { oneOf: [EBUSY, ENODEV] } }', 'v7')).step).toMatchObject({ expected: 'EBUSY|ENODEV', asExpected: false });
  });
});

describe('expect values the loader refuses, at the field', () => {
  const paths = (expectYaml: string) => problemsOf(() => parseScenario(secondGroup(expectYaml), 'bad.yaml')).map((p) => `${p.path}: ${p.message}`);

  it('an unknown outcome, alone, in a list of alternatives, or under a preset', () => {
    expect(paths('EWHAT')[0]).toMatch(/^steps\[0\]\.expect: 'EWHAT' is not an outcome: ok, oops, timeout or an errno name \(ENOENT, /);
    expect(paths('{ oneOf: [EACCES, EWHAT] }')[0]).toMatch(/^steps\[0\]\.expect\.oneOf\[1\]: 'EWHAT' is not an outcome/);
    expect(paths('{ v7: { oneOf: [ok, EW] } }')[0]).toMatch(/^steps\[0\]\.expect\.v7\.oneOf\[1\]: 'EW' is not an outcome/);
    expect(paths('{ default: EW }')[0]).toMatch(/^steps\[0\]\.expect\.default: 'EW' is not an outcome/);
  });

  it('one alternative, an unknown preset, alternatives mixed with presets, a number', () => {
    expect(paths('{ oneOf: [EACCES] }')).toEqual(['steps[0].expect.oneOf: name two or more outcomes (one is just `expect: NAME`)']);
    expect(paths('{ v9: ok }')).toEqual(['steps[0].expect: not a preset: v9 (a map\'s keys are presets, v1, v2, v3, v4, v5, v6, v7, v8, mainline, and default)']);
    expect(paths('{ oneOf: [ok, EINVAL], v1: ok }')).toEqual(['steps[0].expect: Unrecognized key: "v1"']);
    expect(paths('22')).toEqual(['steps[0].expect: an outcome (ok, EINVAL, …), { oneOf: [...] } or a map from preset to those']);
    expect(paths('{}')).toEqual(['steps[0].expect: name at least one preset or default']);
  });
});
