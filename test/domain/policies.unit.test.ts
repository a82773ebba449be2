import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POLICIES, PRESETS, resolvePolicy } from '../../libs/contracts/src/index.js';

describe('docs/policies.md', () => {
  const doc = readFileSync('docs/policies.md', 'utf8');
  const rows = new Map(doc.split('\n').filter((l) => l.startsWith('| `')).map((l) => [l.slice(3, l.indexOf('`', 3)), l.split(' | ')]));
  it('lists every policy with its value in each preset', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(POLICIES).sort());
    for (const [name, def] of Object.entries(POLICIES)) {
      const cells = rows.get(name)!;
      const values = cells.slice(3).map((c) => c.replace(/[`| ]/g, ''));
      expect(values, name).toEqual(PRESETS.map((p) => String(def.presets[p])));
    }
  });
  it('every preset resolves and every bug scenario override names a known policy', () => {
    for (const p of PRESETS) expect(Object.keys(resolvePolicy(p).values).length).toBe(Object.keys(POLICIES).length);
    expect(() => resolvePolicy('v7', { 'vtd.drain_prq': 'maybe' })).toThrow(/bad value/);
  });
});
