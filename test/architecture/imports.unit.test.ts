import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering a newcomer can rely on (issue 9): every lib has an index and is imported only through
// it, the lib graph has no cycle, and the named edges that must not exist do not.

const root = resolve(import.meta.dirname, '../..');
const libs = readdirSync(join(root, 'libs')).filter((d) => statSync(join(root, 'libs', d)).isDirectory());

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : tsFiles(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every import of another lib from a source file: the lib and the file inside it. */
function libImports(file: string): Array<{ lib: string; target: string }> {
  const src = readFileSync(file, 'utf8');
  const out: Array<{ lib: string; target: string }> = [];
  for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
    const abs = resolve(file, '..', m[1]!);
    const rel = relative(join(root, 'libs'), abs).split(sep);
    if (rel[0] === '..' || rel.length < 2) continue;
    out.push({ lib: rel[0]!, target: rel.slice(1).join('/') });
  }
  return out;
}

const sources = [...libs.flatMap((l) => tsFiles(join(root, 'libs', l))), ...tsFiles(join(root, 'apps'))];
const ownLib = (file: string) => {
  const rel = relative(join(root, 'libs'), file).split(sep);
  return rel[0] === '..' ? undefined : rel[0];
};

/** lib -> the libs it imports */
const graph = new Map<string, Set<string>>(libs.map((l) => [l, new Set<string>()]));
for (const f of sources) {
  const own = ownLib(f);
  if (!own) continue;
  for (const i of libImports(f)) if (i.lib !== own) graph.get(own)!.add(i.lib);
}

describe('the libs', () => {
  it('each have an index', () => {
    expect(libs.filter((l) => !existsSync(join(root, 'libs', l, 'src', 'index.ts')))).toEqual([]);
  });

  it('are imported only through their index, from apps and from other libs', () => {
    const bad: string[] = [];
    for (const f of sources) {
      const own = ownLib(f);
      for (const i of libImports(f)) if (i.lib !== own && i.target !== 'src/index.js') bad.push(`${relative(root, f)} imports libs/${i.lib}/${i.target}`);
    }
    expect(bad).toEqual([]);
  });

  it('form no cycle', () => {
    const cycles: string[] = [];
    const walk = (lib: string, path: string[]) => {
      for (const next of graph.get(lib) ?? []) {
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
        else walk(next, [...path, next]);
      }
    };
    for (const l of libs) walk(l, [l]);
    expect(cycles).toEqual([]);
  });

  it('keep the edges the architecture forbids out: the cluster does not import the embedded engine, the domain does not import the scenario file format', () => {
    expect([...graph.get('cluster')!]).not.toContain('engine');
    expect([...graph.get('domain')!]).not.toContain('scenario');
    // the deciders are pure: nothing that does I/O
    for (const l of ['event-log', 'transport', 'cluster', 'redis', 'engine', 'runtime']) expect([...graph.get('domain')!]).not.toContain(l);
  });
});
