#!/usr/bin/env node
// `npm run build` (also run by `prepare`, `demo` and `test`): tsc into dist/, then one esbuild bundle per
// service (scripts/bundle.js). Skipped when nothing it reads has changed since the last build: the stamp
// dist/.build-stamp holds a hash of the path and content of every input (the TypeScript sources tsc
// compiles, the tsconfigs, package.json, package-lock.json and these scripts), so an edited, added, removed
// or renamed source is always rebuilt, whatever its mtime; and it is written only after a build succeeded.
// When it does build, tsc is incremental (dist/.tsbuildinfo): only what a change affects is checked again.
//   node scripts/build.js           build if out of date
//   node scripts/build.js --force   build anyway (tsc from scratch)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const SERVICES = ['orchestrator', 'guest-viommu', 'vfio-type1', 'mdev-parent', 'host-vtd'];
const STAMP = join('dist', '.build-stamp');
const BUILD_INFO = join('dist', '.tsbuildinfo');
// what tsconfig.build.json compiles (apps/**, libs/**, test/fixtures/**, minus tests), and what shapes the output
const SOURCE_DIRS = ['apps', 'libs', join('test', 'fixtures')];
const SOURCE_EXT = /\.(c|m)?ts$|\.json$/;
const FILES = ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.client.json', 'package.json', 'package-lock.json', 'scripts/build.js', 'scripts/bundle.js'];
// what must exist for the build to count as done: the CLI's entry, the explore pools' child (forked, not imported) and every service bundle
const OUTPUTS = [join('dist', 'apps', 'cli', 'src', 'main.js'), join('dist', 'libs', 'explore', 'src', 'pool', 'child.js'), ...SERVICES.map((s) => join('dist', 'services', `${s}.mjs`)), join('dist', 'ui', 'run-page.js')];

function walk(dir, out) {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'node_modules') walk(p, out); }
    else if (SOURCE_EXT.test(e.name) && !/\.(d|test)\.ts$/.test(e.name)) out.push(p); // tsconfig.build.json excludes tests
  }
  return out;
}

function inputsHash() {
  const files = [...SOURCE_DIRS.flatMap((d) => walk(d, [])), ...FILES.filter((f) => existsSync(f))]
    .map((f) => relative(root, join(root, f)).split(sep).join('/'))
    .sort();
  const h = createHash('sha256');
  for (const f of files) h.update(f).update('\0').update(readFileSync(f)).update('\0');
  h.update(process.version.split('.')[0]); // a bundle targets the Node it was built with
  return { hash: h.digest('hex'), count: files.length };
}

const force = process.argv.includes('--force');
const t0 = Date.now();
const { hash, count } = inputsHash();
const missing = OUTPUTS.filter((o) => !existsSync(o));
let previous = null;
try { previous = JSON.parse(readFileSync(STAMP, 'utf8')).hash; } catch { /* no stamp: build */ }

if (!force && previous === hash && missing.length === 0) {
  console.log(`build: up to date (${count} inputs unchanged since the last build; \`npm run build -- --force\` rebuilds)`);
  process.exit(0);
}

// tsc's incremental mode trusts its build info: without the outputs it describes, start over
if (force || missing.length > 0) rmSync(BUILD_INFO, { force: true });
rmSync(STAMP, { force: true });
mkdirSync('dist', { recursive: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--incremental', '--tsBuildInfoFile', BUILD_INFO], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
// the dashboard's browser scripts: DOM types, no Node (esbuild bundles them without checking)
const rc = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.client.json'], { stdio: 'inherit' });
if (rc.status !== 0) process.exit(rc.status ?? 1);
const t1 = Date.now();
await import('./bundle.js');

writeFileSync(STAMP, JSON.stringify({ hash, inputs: count, builtAt: new Date().toISOString() }) + '\n');
console.log(`build: tsc ${((t1 - t0) / 1000).toFixed(1)} s, bundle ${((Date.now() - t1) / 1000).toFixed(1)} s`);
