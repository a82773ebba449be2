import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { RedisRunLog, readNdjson } from '../../libs/event-log/src/index.js';
import { launchChromium } from '../support/browser.js';
import { deletePrefix } from '../support/cluster.js';
import { embeddedCli, runCli, startCli, type CliProcess } from '../support/cli-process.js';
import { testPrefix } from '../support/redis.js';

// Issue 13 points 2-5: `vsva-sim ui` as a user starts it (the built CLI, on 127.0.0.1, with the tests'
// Redis and a folder of exported runs), driven in headless Debian Chromium. Screenshots go to
// .vsva/screenshots/ (README "See a run in the dashboard").

const SHOTS = resolve('.vsva/screenshots');
const dir = mkdtempSync(join(tmpdir(), 'vsva-ui-'));
const runs = join(dir, 'runs');
const state = join(dir, 'state');
const prefix = testPrefix('ui');
const cli = embeddedCli(state);
const V1 = 'emb-seed-null-iommu-device-v1-s1';
const V2 = 'emb-seed-null-iommu-device-v2-s1';
const EVIL = 'emb-evil-description-v1-s1';

let ui: CliProcess;
let base = '';
let browser: Browser;
const env = () => ({ REDIS_URL: inject('redisUrl'), VSVA_PREFIX: prefix, VSVA_STATE_DIR: state });

/** The URL `vsva-sim ui` prints on stdout once it listens. */
async function urlOf(p: CliProcess, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const m = /^(http:\/\/\S+)$/m.exec(p.stdout());
    if (m) return m[1]!;
    if (p.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`vsva-sim ui printed no URL within ${ms} ms:\n${p.stderr()}`);
}

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as Page & { errors: string[] }).errors = errors;
  await page.goto(`${base}${path}`);
  return page;
}

beforeAll(async () => {
  mkdirSync(runs, { recursive: true });
  mkdirSync(SHOTS, { recursive: true });
  for (const p of ['v1', 'v2']) {
    const r = cli(['run', 'scenarios/seed-null-iommu-device.yaml', '--policy', p, '--engine', 'embedded', '-q', '--export', join(runs, `${p}.ndjson`)]);
    expect(r.code, r.stderr).toBe(p === 'v1' ? 1 : 0);
  }
  // a scenario whose description tries to run a script in the page
  const evil = parse(readFileSync('scenarios/seed-null-iommu-device.yaml', 'utf8')) as Record<string, unknown>;
  evil.name = 'evil-description';
  evil.description = 'Looks harmless <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
  writeFileSync(join(dir, 'evil.yaml'), stringify(evil));
  const e = cli(['run', join(dir, 'evil.yaml'), '--policy', 'v1', '--engine', 'embedded', '-q', '--export', join(runs, 'evil.ndjson')]);
  expect(e.code, e.stderr).toBe(1);
  ui = startCli(['ui', '--port', '0', '--runs', runs], env(), 300_000);
  base = await urlOf(ui);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (ui && ui.child.exitCode === null) {
    ui.child.kill('SIGTERM');
    const r = await ui.done;
    expect(r.code, r.stderr).toBe(143);
  }
  await deletePrefix(inject('redisUrl'), prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('vsva-sim ui in a browser', () => {
  it('listens on 127.0.0.1 by default, and says where it reads runs from', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ui.stderr()).toMatch(/reading runs from the Redis of REDIS_URL and .*runs/);
  });

  it('run list -> the seed\'s v1 run -> its violation -> the scrubber lands on the oops, where the host has just taken the NULL device', async () => {
    const page = await open('/');
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(3);
    await page.locator('select[name=verdict]').selectOption('fail');
    await page.locator('input[name=q]').fill('seed-null');
    await page.locator('form.filters button').click();
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(1);
    await page.getByRole('link', { name: V1 }).click();
    await page.waitForURL(`**/runs/${V1}`);
    const violation = page.locator('a.violation', { hasText: 'no-host-oops' });
    expect(await violation.textContent()).toBe('no-host-oops');
    // go elsewhere first, so that the click is what brings the cursor to the oops
    await page.locator('a.cite', { hasText: '#115' }).first().click();
    await page.waitForSelector('#scrubber[data-shown="115"]');
    await violation.click();
    const oops = Number(await violation.getAttribute('data-seq'));
    await page.waitForSelector(`#scrubber[data-shown="${oops}"]`);
    expect(JSON.parse((await page.locator('#entry').textContent())!)).toMatchObject({ seq: oops, type: 'oops', component: 'host-vtd' });
    expect(await page.locator('#seq').inputValue()).toBe(String(oops));
    const host = page.locator('section.pane[data-component="host-vtd"]');
    expect(await host.locator('.consumed').textContent()).toMatch(new RegExp(`last consumed #${oops - 1} iommu_sva_bind_gpasid .*mdev=mdev2 dev=NULL`));
    expect(await host.locator('details.oops pre').textContent()).toContain('intel_svm_bind_gpasid');
    // the violating arrow is drawn, marked hot, under the cursor's neighbour
    expect(await page.locator(`#diagram g.arrow.hot[data-recv="${oops - 1}"]`).count()).toBe(1);
    // two steps back, before the host consumed that bind (an input and its outputs are one append): no oops;
    // forward again, and the pane marks what changed
    for (const at of [oops - 1, oops - 2]) {
      await page.locator('#prev').click();
      await page.waitForSelector(`#scrubber[data-shown="${at}"]`);
    }
    expect(await host.locator('details.oops').count()).toBe(0);
    for (const at of [oops - 1, oops]) {
      await page.locator('#next').click();
      await page.waitForSelector(`#scrubber[data-shown="${at}"]`);
    }
    expect(await host.locator('details.oops').count()).toBe(1);
    await page.evaluate("document.getElementById('scrubber').scrollIntoView({ block: 'start' })");
    await page.screenshot({ path: join(SHOTS, 'run-page.png') });
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('a scenario description holding a <script> shows as text and runs nothing', async () => {
    const page = await open(`/runs/${EVIL}`);
    await page.waitForSelector('#scrubber[data-shown]');
    expect(await page.locator('p.description').first().textContent()).toContain('<script>window.__pwned = 1</script>');
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await page.close();
  });

  it('an unknown run is a 404 page; the JSON says the same', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${base}/runs/no-such-run`);
    expect(res!.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('Not found');
    expect(await page.locator('main p').first().textContent()).toContain("There is no run 'no-such-run'");
    const api = await fetch(`${base}/api/runs/no-such-run/state?seq=1`);
    expect(api.status).toBe(404);
    await page.close();
  });

  it('two runs side by side from their first divergence', async () => {
    const page = await open(`/diff?a=${V1}&b=${V2}`);
    const said = (await page.locator('#diff-verdict').textContent())!;
    const m = /First divergence at #(\d+)/.exec(said);
    expect(m, said).not.toBeNull();
    // each column highlights its side of the divergence, and draws the diagram around it
    expect(await page.locator('.column[data-side="A"] tr.differs').count()).toBe(1);
    expect(await page.locator('.column[data-side="B"] tr.differs').count()).toBe(1);
    expect(await page.locator('.column svg').count()).toBe(2);
    const api = (await (await fetch(`${base}/api/diff?a=${V1}&b=${V2}`)).json()) as { first: { seq: number } };
    expect(api.first.seq).toBe(Number(m![1]));
    await page.screenshot({ path: join(SHOTS, 'diff.png'), fullPage: true });
    await page.close();
  });

  it('follows a live run as it is written, to its end and its verdict', async () => {
    const { entries } = await readNdjson(join(runs, 'v1.ndjson'));
    const header = (await readNdjson(join(runs, 'v1.ndjson'))).header;
    const runId = 'live-v1';
    const log = RedisRunLog.fromUrl(inject('redisUrl'), { prefix });
    const meta = { runId, scenario: header.scenario, policy: header.policy, seed: 1, engine: 'cluster' as const, startedAt: Date.now(), status: 'running' as const };
    try {
      const rows = entries.map((e) => ({ ...e, runId }));
      await log.putRunMeta(meta);
      await log.appendOnce(runId, 'live:0', rows.slice(0, 20));
      const page = await open(`/runs/${runId}`);
      await page.waitForSelector('#scrubber[data-live="true"][data-shown]');
      expect(await page.locator('#summary').getAttribute('data-verdict')).toBe('running');
      // the rest arrives in slices, as a cluster writes it
      for (let i = 20; i < rows.length; i += 30) {
        await log.appendOnce(runId, `live:${i}`, rows.slice(i, i + 30));
        await new Promise((r) => setTimeout(r, 150));
      }
      await log.putRunMeta({ ...meta, status: 'finished' });
      await page.waitForSelector('#scrubber[data-ended="true"]');
      expect(await page.locator('#summary').getAttribute('data-verdict')).toBe('fail');
      expect(await page.locator('#entry-count').textContent()).toBe(String(rows.length));
      expect(await page.locator('#live-status').textContent()).toBe(`ended: ${rows.length} entries`);
      // the cursor followed the end of the log
      await page.waitForSelector(`#scrubber[data-shown="${rows.length}"]`);
      expect(await page.locator('a.violation', { hasText: 'no-host-oops' }).count()).toBe(1);
      await page.screenshot({ path: join(SHOTS, 'live-run-ended.png') });
      await page.close();
    } finally {
      await log.deleteRun(runId);
      await log.close();
    }
  });

  it('mounts bull-board on the cluster\'s queues', async () => {
    const page = await open('/queues');
    await page.getByText('vsva.host-vtd', { exact: false }).first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'queues.png') });
    await page.close();
  });

  it('the Mermaid of the v1 run is accepted by Mermaid\'s own parser, in the browser', async () => {
    const text = await (await fetch(`${base}/api/runs/${V1}/diagram?format=mermaid`)).text();
    expect(text).toMatch(/dev=NULL/);
    const page = await browser.newPage();
    await page.goto('about:blank');
    await page.addScriptTag({ path: resolve('node_modules/mermaid/dist/mermaid.min.js') });
    const parsed = await page.evaluate(async (t) => {
      const m = (globalThis as unknown as { mermaid: { parse(t: string): Promise<{ diagramType: string }> } }).mermaid;
      return (await m.parse(t)).diagramType;
    }, text);
    expect(parsed).toBe('sequence');
    // and it refuses what is not a diagram: the check can fail
    const refused = await page.evaluate(async () => {
      const m = (globalThis as unknown as { mermaid: { parse(t: string): Promise<unknown> } }).mermaid;
      return m.parse('sequenceDiagram\n  A->>: broken').then(() => false, () => true);
    });
    expect(refused).toBe(true);
    await page.close();
  });
});

describe('vsva-sim ui as an operator starts it', () => {
  it('a port in use is exit 3 with a clear line', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await runCli(['ui', '--port', String(port), '--no-redis'], { VSVA_STATE_DIR: state }, 60_000);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`127.0.0.1:${port} is already in use: stop what listens there, or pass --port`);
    } finally {
      busy.close();
    }
  });

  it('an unreachable Redis is exit 3 naming it and --no-redis', async () => {
    const r = await runCli(['ui', '--port', '0'], { REDIS_URL: 'redis://127.0.0.1:1', VSVA_STATE_DIR: state }, 60_000);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1.*refused.*--no-redis/s);
  });

  it('--host other than loopback says who can read the runs', async () => {
    const p = startCli(['ui', '--port', '0', '--host', '0.0.0.0', '--no-redis'], { VSVA_STATE_DIR: state }, 60_000);
    const url = await urlOf(p);
    expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect(p.stderr()).toMatch(/listening on 0\.0\.0\.0, not only on this machine/);
    p.child.kill('SIGINT');
    expect((await p.done).code).toBe(130);
  });
});
