#!/usr/bin/env node
// Counts type assertions (`x as T`, `<T>x`; not `as const`) in the given folders, per file, with the
// TypeScript parser: `node scripts/count-casts.js libs/domain libs/checkers`. Issue 9 holds the domain
// and the checkers under 60 together (test/architecture/casts.unit.test.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export function castsIn(file) {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (n) => {
    const isConst = (t) => ts.isTypeReferenceNode(t) && t.typeName.getText(src) === 'const';
    if ((ts.isAsExpression(n) || ts.isTypeAssertionExpression(n)) && !isConst(n.type)) {
      found.push({ line: src.getLineAndCharacterOfPosition(n.getStart(src)).line + 1, text: n.getText(src).slice(0, 100) });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return found;
}

export function tsFilesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return tsFilesUnder(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [p] : [];
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let total = 0;
  for (const dir of process.argv.slice(2)) {
    for (const f of tsFilesUnder(dir)) {
      const c = castsIn(f);
      if (c.length) console.log(`${String(c.length).padStart(4)}  ${f}`);
      total += c.length;
    }
  }
  console.log(`${String(total).padStart(4)}  total`);
}
