import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../libs/contracts/src/index.js';
import { serviceEntry, startCluster } from '../../libs/cluster/src/index.js';
import { startPrivateRedis, type PrivateRedis } from '../../libs/redis/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { driveCluster, startTestCluster } from '../support/cluster.js';
import { testPrefix } from '../support/redis.js';

// a Redis of this file's own that wants a password; the services get it in their URL
const PASSWORD = 'vsva-Secret-8e1f';
let redis: PrivateRedis;

beforeAll(async () => {
  redis = await startPrivateRedis({ appendonly: false, password: PASSWORD });
  expect(redis.url).toContain(PASSWORD);
});
afterAll(async () => {
  await redis?.stop();
});

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

/** Waits (bounded) until a log file contains `text`; the assertions that follow say what was missing. */
async function untilLogged(file: string, text: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!readFileSync(file, 'utf8').includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

describe('service logs (the services as separate processes, built: npm run build)', () => {
  it('VSVA_LOG_FORMAT=json: every line of every service log is a JSON record with level, time, service, pid and msg; no password anywhere', async () => {
    const cluster = await startTestCluster(redis.url, 'logs-json', { env: { VSVA_LOG_FORMAT: 'json', VSVA_LOG_LEVEL: 'debug' } });
    const driver = driveCluster(cluster);
    try {
      const file = 'scenarios/seed-null-iommu-device.yaml';
      const report = await driver.run({ runId: 'logs-json-1', scenario: loadScenario(file), file, policy: resolvePolicy('v2'), seed: 1, reproduce: 'test' });
      expect(report.verdict).toBe('pass');
      for (const s of cluster.services) await untilLogged(s.logFile, `ready ${s.component} `);
    } finally {
      await driver.close();
      await cluster.stop();
    }
    for (const s of cluster.services) {
      const ls = lines(s.logFile);
      expect(ls.length, s.logFile).toBeGreaterThan(0);
      for (const l of ls) {
        expect(l).not.toContain(PASSWORD);
        let rec: Record<string, unknown> | undefined;
        expect(() => (rec = JSON.parse(l)), `${s.logFile}: ${l}`).not.toThrow();
        expect(rec).toMatchObject({ level: expect.any(String), time: expect.any(String), service: s.component, pid: s.pid, msg: expect.any(String) });
      }
      // the start-up line is in the log, with the URL redacted
      expect(ls.map((l) => JSON.parse(l).msg)).toContainEqual(expect.stringMatching(new RegExp(`^ready ${s.component} ${s.pid} \\(redis redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}, prefix `)));
    }
  });

  it('text format, stderr not a terminal: human lines without ANSI colour, no password', async () => {
    const cfg = { redisUrl: redis.url, prefix: testPrefix('logs-text') };
    const logDir = mkdtempSync(join(tmpdir(), 'vsva-logs-text-'));
    const one = await startCluster({ cfg, components: ['host-vtd'], logDir, env: { VSVA_LOG_FORMAT: 'text', NO_COLOR: '' }, healthTimeoutMs: 45_000 });
    const s = one.services[0];
    try {
      // health answers once the control queue's worker runs: the ready line follows when both queues are
      await untilLogged(s!.logFile, ' bootstrap: ready ');
    } finally {
      await one.stop();
    }
    const text = readFileSync(s!.logFile, 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('\x1b[');
    expect(text).toMatch(new RegExp(`^\\S+Z INFO  host-vtd\\[${s!.pid}\\] bootstrap: ready host-vtd ${s!.pid} \\(redis redis://:\\*\\*\\*@`, 'm'));
  });

  it('a wrong password: the service stops with a fatal JSON record naming WRONGPASS, and neither password appears', async () => {
    const wrong = redis.url.replace(PASSWORD, 'Wrong-pass-77aa');
    const child = spawn(process.execPath, [serviceEntry('vfio-type1')], {
      env: { ...process.env, VSVA_REDIS_URL: wrong, VSVA_PREFIX: testPrefix('logs-wrongpass'), VSVA_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    expect(code).toBe(1);
    expect(out).not.toContain('Wrong-pass-77aa');
    expect(out).not.toContain(PASSWORD);
    const recs = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(recs.at(-1)).toMatchObject({ level: 'fatal', service: 'vfio-type1', msg: expect.stringContaining('WRONGPASS') });
  });
});
