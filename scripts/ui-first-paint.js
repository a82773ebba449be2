#!/usr/bin/env node
// What the dashboard's run page costs to open, for the largest corpus run (BENCHMARKS.md#dashboard):
// time to first contentful paint, and to the scrubber showing the state at its cursor, in headless Debian
// Chromium, median of N cold loads (a new browser context each). The peer, measured in the same run: the
// same run drawn by `vsva-sim diagram --format html` as one static file, opened from disk.
//   node scripts/ui-first-paint.js [--runs 7] [--scenario scenarios/four-vms-two-parents-background.yaml]
// Needs the build (npm run build) and Chromium (apt-get install chromium, or CHROMIUM_PATH).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: o } = parseArgs({ options: { runs: { type: 'string', default: '7' }, scenario: { type: 'string', default: 'scenarios/four-vms-two-parents-background.yaml' } } });
const N = Number(o.runs);
const dir = mkdtempSync(join(tmpdir(), 'vsva-paint-'));
const env = { ...process.env, REDIS_URL: '', VSVA_REDIS_URL: '', VSVA_STATE_DIR: join(dir, 'state') };
const cli = (args) => spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], { encoding: 'utf8', env });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const file = join(dir, 'run.ndjson');
const r = cli(['run', o.scenario, '--engine', 'embedded', '-q', '--json', '--export', file]);
if (r.status !== 0 && r.status !== 1) throw new Error(`run: ${r.stderr}`);
const report = JSON.parse(r.stdout);
const html = join(dir, 'run.html');
const d = cli(['diagram', file, '--format', 'html', '-o', html]);
if (d.status !== 0) throw new Error(`diagram: ${d.stderr}`);

const ui = spawn(process.execPath, ['bin/vsva-sim.js', 'ui', '--port', '0', '--no-redis', '--runs', file], { env, stdio: ['ignore', 'pipe', 'inherit'] });
let browser;
try {
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('vsva-sim ui printed no URL in 30 s')), 30_000);
    ui.stdout.on('data', (b) => {
      out += b;
      const m = /^(http:\/\/\S+)$/m.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    ui.once('exit', (c) => reject(new Error(`vsva-sim ui exited ${c}`)));
  });
  const exe = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find((p) => p && existsSync(p));
  if (!exe) throw new Error('no Chromium: apt-get install chromium, or set CHROMIUM_PATH');
  browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });

  const fcp = () => performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')?.startTime ?? NaN;
  const load = async (url, ready) => {
    const ctx = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
    const page = await ctx.newPage();
    await page.goto(url);
    if (ready) await page.waitForSelector(ready, { timeout: 30_000 });
    await page.waitForFunction(() => performance.getEntriesByType('paint').some((e) => e.name === 'first-contentful-paint'), null, { timeout: 30_000 });
    const m = await page.evaluate(({ fcpFn }) => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { fcp: new Function(`return (${fcpFn})()`)(), html: nav.responseEnd - nav.requestStart, bytes: nav.transferSize || nav.encodedBodySize, ready: performance.now() };
    }, { fcpFn: fcp.toString() });
    await ctx.close();
    return m;
  };
  // one warm-up of each: the server reads and checks the run once, then keeps it (RunCatalog)
  const runUrl = `${base}/runs/${encodeURIComponent(report.runId)}`;
  const first = await load(runUrl, '#scrubber[data-shown]');
  await load(`file://${html}`);
  const page = [], peer = [];
  for (let i = 0; i < N; i++) {
    page.push(await load(runUrl, '#scrubber[data-shown]'));
    peer.push(await load(`file://${html}`));
  }
  const f = (xs, k) => median(xs.map((x) => x[k])).toFixed(0);
  console.log(`run ${report.runId}: ${report.stats.entries} entries (${o.scenario}, ${report.policy.preset}); ${N} cold loads each, medians`);
  console.log(`  first open (the server reads and checks the run):  HTML ${first.html.toFixed(0)} ms, first contentful paint ${first.fcp.toFixed(0)} ms, state at the cursor ${first.ready.toFixed(0)} ms`);
  console.log(`  run page:              HTML ${f(page, 'html')} ms (${(median(page.map((x) => x.bytes)) / 1024).toFixed(0)} KiB), first contentful paint ${f(page, 'fcp')} ms, state at the cursor ${f(page, 'ready')} ms`);
  console.log(`  peer, diagram --format html from disk (${(statSync(html).size / 1024).toFixed(0)} KiB): first contentful paint ${f(peer, 'fcp')} ms`);
  console.log(`  ratio run page / peer, first contentful paint: ${(median(page.map((x) => x.fcp)) / median(peer.map((x) => x.fcp))).toFixed(2)}`);
} finally {
  await browser?.close();
  ui.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
