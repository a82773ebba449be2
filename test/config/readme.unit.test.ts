import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTable, VARIABLE_NAMES } from '../../libs/config/src/index.js';

// The README documents every variable the configuration schema reads, and nothing else: its table is
// configTable()'s text (generated from libs/config/src/variables.ts), between two markers.

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const block = /<!-- config-table:[^\n]*-->\n([\s\S]*?)\n<!-- \/config-table -->/.exec(readme)?.[1];

describe("the README's configuration table", () => {
  it('lists exactly the variables of the schema, in its order', () => {
    expect(block, 'README.md has no <!-- config-table: ... --> ... <!-- /config-table --> block').toBeDefined();
    const listed = [...block!.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual(VARIABLE_NAMES);
  });

  it("is configTable()'s text: each default and description as the schema says (paste this when it changes)", () => {
    expect(block).toBe(configTable());
  });

  it('names no VSVA_* variable anywhere that the schema does not have', () => {
    const named = new Set([...readme.matchAll(/\bVSVA_[A-Z_]+\b/g)].map((m) => m[0].replace(/_$/, '')));
    // `VSVA_MAX_*` stands for the limits
    named.delete('VSVA_MAX');
    expect([...named].filter((n) => !(VARIABLE_NAMES as string[]).includes(n))).toEqual([]);
  });
});
