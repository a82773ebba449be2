import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, ScenarioError } from '../../libs/scenario/src/index.js';

const valid = `
name: t
description: d
parents: [{ id: dsa0, kind: iommu-backed, rid: "6a:01.0" }]
vms: [{ id: vm1, mdevs: [{ id: m1, parent: dsa0 }] }]
steps:
  - { op: pasid_alloc, vm: vm1, as: p }
  - { op: bind, vm: vm1, pasid: $p, gpgd: 4096 }
`;

function problems(text: string) {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    expect((e as Error).message).toMatch(/^bad\.yaml: invalid scenario/);
    return (e as ScenarioError).problems;
  }
  throw new Error('expected a ScenarioError');
}

describe('scenario files', () => {
  it('the corpus files load', () => {
    expect(loadScenario('scenarios/seed-null-iommu-device.yaml').steps.length).toBeGreaterThan(0);
    expect(parseScenario(valid, 'ok.yaml').vms[0]!.nesting).toBe(true);
  });

  it('names the path of a field of the wrong type', () => {
    expect(problems(valid.replace('gpgd: 4096', 'gpgd: lots'))).toEqual([{ path: 'steps[1].gpgd', message: expect.stringMatching(/number/) }]);
  });

  it('names an unknown parent, an unknown VM and an unbound variable', () => {
    const ps = problems(valid.replace('parent: dsa0', 'parent: dsa9').replace('op: bind, vm: vm1', 'op: bind, vm: vm7').replace('$p', '$q'));
    expect(ps.map((p) => p.path)).toEqual(['vms[0].mdevs[0].parent', 'steps[1].vm', 'steps[1].pasid']);
    expect(ps[0]!.message).toMatch(/no parent 'dsa9'/);
  });

  it('rejects an unknown op and an unknown key', () => {
    expect(problems(valid.replace('op: pasid_alloc', 'op: pasid_steal'))[0]!.path).toBe('steps[0].op');
    expect(problems(valid.replace('description: d', 'description: d\ncolour: red'))[0]!.message).toMatch(/colour/);
  });

  it('reports YAML syntax errors with a line and unreadable files by name', () => {
    expect(problems('name: [unclosed\n')[0]!.path).toMatch(/^line \d+/);
    expect(() => loadScenario('no/such/file.yaml')).toThrow(/no\/such\/file\.yaml: invalid scenario\n.*cannot read the file/);
  });

  it('rejects a document that is not a mapping', () => {
    expect(problems('- just\n- a list\n')[0]!.message).toMatch(/expected a mapping/);
  });
});
