import { readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadScenario, ScenarioSchema, scenarioYaml } from '../../libs/scenario/src/index.js';

describe('scenarioYaml', () => {
  const files = readdirSync('scenarios').filter((f) => f.endsWith('.yaml'));
  it.each(files)('%s reads back as the same scenario', (f) => {
    const sc = loadScenario(`scenarios/${f}`);
    expect(ScenarioSchema.parse(parse(scenarioYaml(sc)))).toEqual(sc);
  });

  it('leaves defaults out, one line per step, addresses in hex', () => {
    const sc = loadScenario('scenarios/seed-null-iommu-device.yaml');
    const text = scenarioYaml(sc, 'a header');
    expect(text).toMatch(/^# a header\n/);
    expect(text).toContain('  - { op: bind, vm: vm1, pasid: $p, gpgd: 0x345000, expect: { v1: oops, default: EINVAL } }');
    expect(text).not.toContain('addr_width');
    expect(text).not.toContain('caching_mode');
  });
});
