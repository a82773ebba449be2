import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POLICIES, PRESETS, PRESET_KERNELS, resolvePolicy } from '../../libs/contracts/src/index.js';
import { policiesMarkdown } from '../../apps/cli/src/commands/policies.js';

describe('docs/policies.md', () => {
  const doc = readFileSync('docs/policies.md', 'utf8');
  it('holds the tables `vsva-sim policies --markdown` prints (regenerate them with it)', () => {
    expect(doc).toContain(policiesMarkdown());
  });
  it('lists every policy with its kernel column and its value in each preset', () => {
    const rows = new Map(doc.split('\n').filter((l) => l.startsWith('| `')).map((l) => [l.slice(3, l.indexOf('`', 3)), l.split(' | ')]));
    expect([...rows.keys()].sort()).toEqual(Object.keys(POLICIES).sort());
    for (const [name, def] of Object.entries(POLICIES)) {
      const cells = rows.get(name)!;
      expect(cells[3], name).toBe(def.kernel);
      const values = cells.slice(4).map((c) => c.replace(/[`| ]/g, ''));
      expect(values, name).toEqual(PRESETS.map((p) => String(def.presets[p])));
    }
  });
  it('names the host kernel of every preset', () => {
    for (const p of PRESETS) expect(doc).toContain(`| ${p} | ${PRESET_KERNELS[p].kernel} |`);
  });
  it('every preset resolves and every bug scenario override names a known policy', () => {
    for (const p of PRESETS) expect(Object.keys(resolvePolicy(p).values).length).toBe(Object.keys(POLICIES).length);
    expect(() => resolvePolicy('v7', { 'vtd.drain_prq': 'maybe' })).toThrow(/bad value/);
  });
});

describe('presets follow their host kernels (DOMAIN.md §7.1, §7.2)', () => {
  const v = (p: string) => resolvePolicy(p).values;
  it('the ownership check and the one-group nesting container start at v2, not v7 and v6', () => {
    expect([v('v1')['vtd.bind_checks_pasid_ownership'], v('v2')['vtd.bind_checks_pasid_ownership']]).toEqual([false, true]);
    expect([v('v1')['vfio.singleton_nesting_container'], v('v2')['vfio.singleton_nesting_container']]).toEqual([false, true]);
  });
  it('v7 runs on v5.9-rc2: no -ERANGE for a misaligned address, the devTLB-flush fix, the aux shared bind -EBUSY, a NULL device WARNs', () => {
    expect(v('v7')['vtd.psi_misaligned']).toBe('warn');
    expect(v('v6')['vtd.psi_misaligned']).toBe('ERANGE');
    expect(v('v7')['vtd.devtlb_pasid_full_range']).toBe(true);
    expect(v('v7')['vtd.aux_shared_gpasid_bind']).toBe('EBUSY');
    expect(v('v6')['vtd.null_device']).toBe('oops');
    expect(v('v7')['vtd.null_device']).toBe('WARN');
  });
  it('the review\'s v1 runs on a pre-v5.9 host, where a NULL device oopses', () => {
    expect(PRESET_KERNELS.v1.kernel).toMatch(/v5\.6/);
    expect(v('v1')['vtd.null_device']).toBe('oops');
  });
});
