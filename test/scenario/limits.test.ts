import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { planRun } from '../../libs/domain/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { generatedScenario, PLANS, SCALE_SHAPE, WORKLOAD } from '../../libs/bench/src/index.js';
import {
  DEFAULT_LIMITS, LIMIT_ENV, limitsFromEnv, loadScenario, parseScenario, plannedStepCount, scenarioLimitProblems, ScenarioError,
  type ScenarioLimits,
} from '../../libs/scenario/src/index.js';

const HEAD = `name: big
description: d
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]
vms: [{ id: vm1, mdevs: [{ id: m1, parent: dsa0 }] }]
`;

/** A schema-valid scenario of `steps` steps (a PASID, then quiesce) and `ops` background DMA, all after the last step. */
function sized(steps: number, ops: number): string {
  const lines = [HEAD, 'steps:', '  - { op: pasid_alloc, vm: vm1, as: p }'];
  for (let i = 1; i < steps; i++) lines.push('  - { op: quiesce }');
  if (ops) {
    lines.push('workload:');
    for (let left = ops; left > 0; left -= 10_000) lines.push(`  - { mdev: m1, pasid: $p, op: dma, va: 0, from: ${steps}, count: ${Math.min(10_000, left)} }`);
  }
  return `${lines.join('\n')}\n`;
}

function problemsOf(f: () => unknown): ScenarioError['problems'] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as ScenarioError).problems;
  }
  throw new Error('expected a ScenarioError');
}

const limits = (over: Partial<ScenarioLimits>): ScenarioLimits => ({ ...DEFAULT_LIMITS, ...over });

describe('scenario size limits', () => {
  it('the defaults hold the corpus, the fixtures and every workload the bench generates', () => {
    const files = [
      ...readdirSync('scenarios').filter((f) => f.endsWith('.yaml')).map((f) => join('scenarios', f)),
      ...readdirSync('test/fixtures/scenarios').map((f) => join('test/fixtures/scenarios', f)),
    ];
    for (const f of files) expect(() => loadScenario(f, DEFAULT_LIMITS), f).not.toThrow();
    // the recovery and bench long runs: the bind loop repeated 90 times over
    const loop = loadScenario('test/fixtures/scenarios/pasid-bind-loop.yaml');
    expect(scenarioLimitProblems({ ...loop, steps: Array.from({ length: 90 }, () => loop.steps).flat() }, DEFAULT_LIMITS)).toEqual([]);
    const shapes = [
      WORKLOAD, PLANS.full.throughput.shape, PLANS.quick.throughput.shape,
      ...PLANS.full.scale.vms.map((vms) => ({ vms, ...SCALE_SHAPE })),
      { ...WORKLOAD, vms: PLANS.full.append.vms },
      { vms: 8, rounds: 400, backgroundDma: 4 }, // longer than the replay figure's 100,000-entry run (8 VMs, ~120 rounds)
      { vms: 4096, ...SCALE_SHAPE }, // the generator's largest
    ];
    for (const shape of shapes) expect(scenarioLimitProblems(generatedScenario(shape), DEFAULT_LIMITS), JSON.stringify(shape)).toEqual([]);
  });

  it('counts planned steps as the planner makes them (groups shared by mdevs, a workload past the last step)', () => {
    const sc = parseScenario(`name: groups
description: d
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]
vms:
  - { id: vm1, mdevs: [{ id: m1, parent: dsa0, group: g }, { id: m2, parent: dsa0, group: g }, { id: m3, parent: dsa0 }] }
  - { id: vm2, mdevs: [{ id: m4, parent: dsa0 }] }
steps:
  - { op: pasid_alloc, vm: vm1, as: p }
  - { op: quiesce }
workload:
  - { mdev: m1, pasid: $p, op: dma, va: 0, from: 1, count: 5 }
  - { mdev: m4, pasid: $p, op: page_request, va: 0, count: 3 }
`, 'groups.yaml');
    expect(plannedStepCount(sc)).toBe(planRun(sc).length);
    // 4 mdev_create, 2 vfio_set_iommu, 3 groups (g, m3, m4), 2 steps, 8 workload ops
    expect(plannedStepCount(sc)).toBe(4 + 2 + 3 + 2 + 8);
  });

  it('a scenario at the planned-step limit plans and runs in the embedded engine without overflowing the stack', async () => {
    // 30,000 steps (29,999 quiesce steps complete in one decision) and the rest of the 50,000 as DMA queued after the last step
    const steps = DEFAULT_LIMITS.steps;
    const ops = DEFAULT_LIMITS.plannedSteps - steps - 3;
    const sc = parseScenario(sized(steps, ops), 'at-limit.yaml', DEFAULT_LIMITS);
    expect(plannedStepCount(sc)).toBe(DEFAULT_LIMITS.plannedSteps);
    const run = await runEmbedded({ runId: 'limit', scenario: sc, policy: resolvePolicy('v2'), seed: 1, hash: false });
    const completed = run.entries.filter((e) => e.kind === 'event' && e.component === 'orchestrator' && e.type === 'step.completed');
    expect(completed.length).toBe(DEFAULT_LIMITS.plannedSteps);
    expect(run.entries.at(-1)).toMatchObject({ type: 'run.finished' });
    // one step more is refused, naming the limit and how to raise it
    const over = problemsOf(() => parseScenario(sized(steps, ops + 1), 'over.yaml', DEFAULT_LIMITS));
    expect(over).toEqual([{ path: '', message: expect.stringMatching(/plan 50001 steps .*over the limit of 50000 \(set VSVA_MAX_PLANNED_STEPS to raise it\)/) }]);
  });

  it('with the limits raised, nothing in the planner or the engine grows the stack with the input', async () => {
    // a workload of 200,000 ops at one position overflowed the planner's push(...ops) (issue 8), and
    // 150,000 quiesce steps complete in one decision whose entries the engine pushed as one spread
    // (built as objects: the loader's limits are what keep such files out, not what is tested here)
    const base = parseScenario(sized(2, 1), 'base.yaml');
    const wide = { ...base, workload: Array.from({ length: 20 }, () => ({ ...base.workload[0]!, count: 10_000 })) };
    expect(planRun(wide).length).toBe(200_005);
    const long = { ...base, steps: [base.steps[0]!, ...Array.from({ length: 150_000 }, () => ({ op: 'quiesce' as const }))], workload: [] };
    const run = await runEmbedded({ runId: 'long', scenario: long, policy: resolvePolicy('v2'), seed: 1, hash: false });
    expect(run.entries.filter((e) => e.type === 'step.completed' && e.kind === 'event').length).toBe(150_004);
  });

  it('names each limit a scenario is over, and the variable that raises it', () => {
    const at = (n: number, over: Partial<ScenarioLimits>) => problemsOf(() => parseScenario(sized(n, 0), 's.yaml', limits(over)));
    expect(at(11, { steps: 10 })).toEqual([{ path: 'steps', message: '11 steps, over the limit of 10 (set VSVA_MAX_STEPS to raise it)' }]);
    expect(() => parseScenario(sized(10, 0), 's.yaml', limits({ steps: 10 }))).not.toThrow();
    const two = HEAD.replace('vms: [{ id: vm1, mdevs: [{ id: m1, parent: dsa0 }] }]', 'vms: [{ id: vm1, mdevs: [{ id: m1, parent: dsa0 }, { id: m2, parent: dsa0 }] }, { id: vm2, mdevs: [{ id: m3, parent: dsa0 }] }]')
      .replace('parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]', 'parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }, { id: gvt0, kind: non-iommu }]');
    const text = `${two}steps: []\n`;
    expect(problemsOf(() => parseScenario(text, 's.yaml', limits({ vms: 1 })))[0]!.message).toMatch(/^2 VMs, over the limit of 1 \(set VSVA_MAX_VMS/);
    expect(problemsOf(() => parseScenario(text, 's.yaml', limits({ mdevs: 2 })))[0]!.message).toMatch(/^3 mdevs over all VMs, over the limit of 2 \(set VSVA_MAX_MDEVS/);
    expect(problemsOf(() => parseScenario(text, 's.yaml', limits({ parents: 1 })))[0]!.message).toMatch(/^2 parents, over the limit of 1 \(set VSVA_MAX_PARENTS/);
    expect(problemsOf(() => parseScenario(sized(2, 25), 's.yaml', limits({ workloadOps: 24 })))[0]).toEqual({
      path: 'workload', message: 'the workload expands to 25 ops (the sum of its count), over the limit of 24 (set VSVA_MAX_WORKLOAD_OPS to raise it)',
    });
  });

  it('reads its limits from the environment and refuses a malformed one', () => {
    expect(limitsFromEnv({})).toEqual(DEFAULT_LIMITS);
    expect(limitsFromEnv({ VSVA_MAX_STEPS: '12', VSVA_MAX_SCENARIO_BYTES: '' })).toEqual({ ...DEFAULT_LIMITS, steps: 12 });
    expect(() => limitsFromEnv({ VSVA_MAX_STEPS: 'lots' })).toThrow(/VSVA_MAX_STEPS must be a positive integer, got 'lots'/);
    expect(() => limitsFromEnv({ VSVA_MAX_PLANNED_STEPS: '0' })).toThrow(/VSVA_MAX_PLANNED_STEPS must be a positive integer/);
    expect(Object.values(LIMIT_ENV).every((v) => v.startsWith('VSVA_MAX_'))).toBe(true);
  });
});

describe('hostile YAML', () => {
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [x, y] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f'], ['h', 'g'], ['i', 'h']]) bomb.push(`${x}: &${x} [${Array(9).fill(`*${y}`).join(',')}]`);

  it('an alias bomb is refused as bad input, naming the limit', () => {
    const ps = problemsOf(() => parseScenario(`${bomb.join('\n')}\n`, 'lol.yaml'));
    expect(ps).toEqual([{ path: '', message: expect.stringMatching(/^YAML: its aliases expand too much .*over the limit of 100 \(set VSVA_MAX_YAML_ALIASES to raise it\)/) }]);
  });

  it('a few aliases, as a file shares a value, still load', () => {
    const text = `${HEAD}steps:\n  - { op: pasid_alloc, vm: vm1, as: p, expect: &ok ok }\n  - { op: bind, vm: vm1, pasid: $p, gpgd: 4096, expect: *ok }\n`;
    expect(parseScenario(text, 'ok.yaml').steps[1]!.expect).toBe('ok');
  });

  it('collections nested deeper than the limit are refused before the parser recurses into them', () => {
    for (const depth of [100, 100_000]) {
      const ps = problemsOf(() => parseScenario(`name: ${'['.repeat(depth)}${']'.repeat(depth)}\n`, 'deep.yaml'));
      expect(ps[0]!.message).toMatch(/^YAML: collections nested more than 64 deep, over the limit of 64 \(set VSVA_MAX_YAML_DEPTH/);
    }
    const dashes = problemsOf(() => parseScenario(`steps:\n  ${'- '.repeat(5000)}x\n`, 'dash.yaml'));
    expect(dashes[0]!.message).toMatch(/nested more than 64 deep/);
  });
});

describe('only regular files are read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsva-limits-'));

  it('a FIFO is refused at once instead of waiting for a writer', () => {
    const fifo = join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    expect(problemsOf(() => loadScenario(fifo))).toEqual([{ path: '', message: 'not a regular file (a FIFO): a scenario is read from a regular file' }]);
  });

  it('a character device (/dev/zero) and a directory are refused', () => {
    expect(problemsOf(() => loadScenario('/dev/zero'))[0]!.message).toBe('not a regular file (a character device): a scenario is read from a regular file');
    expect(problemsOf(() => loadScenario(dir))[0]!.message).toBe('not a regular file (a directory): a scenario is read from a regular file');
  });

  it('a file over the size limit is refused before it is parsed', () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, sized(100, 0));
    expect(() => loadScenario(big, limits({ bytes: 100_000 }))).not.toThrow();
    expect(problemsOf(() => loadScenario(big, limits({ bytes: 1000 })))[0]!.message).toMatch(/^\d+ bytes, over the limit of 1000 \(set VSVA_MAX_SCENARIO_BYTES to raise it\)/);
  });
});
