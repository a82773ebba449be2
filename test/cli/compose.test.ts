// The compose demo cannot run on CI (no Docker engine), so its shape is checked here instead: the file is
// valid for docker-compose v1 (`config -q`, when docker-compose is on PATH: .ci/run installs it), the image
// is built once and shared, every service has a healthcheck it can run inside the image, and the demo waits
// for all of them to be healthy. The Dockerfile and .dockerignore are checked for what the services need.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../libs/config/src/index.js';
import { COMPONENTS } from '../../libs/contracts/src/index.js';

type Service = {
  image?: string;
  build?: string | { context?: string; target?: string };
  command?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, string> | string[];
  profiles?: string[];
  labels?: Record<string, string> | string[];
  volumes?: Array<string | { source?: string; target?: string }>;
  deploy?: { replicas?: number | string };
};
type Compose = { services: Record<string, Service>; [key: string]: unknown };

const FILE = 'docker-compose.yml';
const compose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;

/** The file as written, YAML merge keys (`<<: *service`) resolved as Compose resolves them. */
const source = (): Compose => parse(readFileSync(FILE, 'utf8'), { merge: true }) as Compose;

/** The file as docker-compose v1 normalises it (`config` prints the merged, validated model). */
function normalised(): Compose {
  const r = spawnSync('docker-compose', ['-f', FILE, 'config'], { encoding: 'utf8' });
  expect(r.stderr).not.toMatch(/ERROR/);
  expect(r.status).toBe(0);
  return parse(r.stdout) as Compose;
}

function checkShape(c: Compose) {
  const all = Object.keys(c.services);
  expect(all.sort()).toEqual(['demo', 'redis', 'ui', ...COMPONENTS, ...CHAOS].sort());
  // the chaos profile's services start only with --profile chaos; the rest always
  for (const n of all) expect(c.services[n].profiles ?? [], n).toEqual(CHAOS.includes(n) ? ['chaos'] : []);
  const names = all.filter((n) => !CHAOS.includes(n));

  // one image, built once: exactly one service has `build:`, targets the runtime stage, and names the image
  // every other vsva service runs
  const builders = names.filter((n) => c.services[n].build !== undefined);
  expect(builders).toHaveLength(1);
  const builder = c.services[builders[0]];
  const image = builder.image;
  expect(image).toBeTruthy();
  expect(typeof builder.build === 'object' ? builder.build.target : undefined).toBe('runtime');
  for (const n of [...COMPONENTS, 'demo', 'chaos-demo', 'ui']) expect(c.services[n].image, n).toBe(image);

  // each service runs its bundle, and is healthy when `vsva-sim health <service>` says so
  for (const n of COMPONENTS) {
    const s = c.services[n];
    expect(s.command, n).toEqual(['node', `dist/services/${n}.mjs`]);
    expect(s.healthcheck?.test, n).toEqual(['CMD', 'node', 'bin/vsva-sim.js', 'health', n]);
    const env = Array.isArray(s.environment) ? Object.fromEntries(s.environment.map((e) => e.split('='))) : s.environment ?? {};
    // the service's environment, read as the service reads it
    expect(loadConfig(env).redisUrl, n).toBe('redis://redis:6379');
    expect(env.VSVA_PREFIX, n).toBeTruthy();
  }
  for (const n of names.filter((x) => x !== 'demo')) {
    expect(c.services[n].healthcheck?.test, `${n} has a healthcheck`).toBeTruthy();
    expect(c.services[n].healthcheck?.disable, n).not.toBe(true);
  }

  // the dashboard: the CLI's `ui` on the cluster's Redis, published on the host's loopback only
  const ui = c.services.ui;
  expect(ui.command).toEqual(['node', 'bin/vsva-sim.js', 'ui', '--host', '0.0.0.0', '--port', '7480']);
  // (docker-compose v1's normalised model spells the protocol out)
  expect((ui as { ports?: string[] }).ports?.map((p) => p.replace(/\/tcp$/, ''))).toEqual(['127.0.0.1:7480:7480']);

  // the demo starts only once Redis, all five services and the dashboard are healthy
  const deps = c.services.demo.depends_on;
  expect(deps && !Array.isArray(deps)).toBe(true);
  for (const n of names.filter((x) => x !== 'demo')) {
    expect((deps as Record<string, { condition?: string }>)[n]?.condition, `demo waits for ${n}`).toBe('service_healthy');
  }
}

const CHAOS = ['pumba-kill', 'pumba-pause', 'chaos-demo'];

/** The chaos profile: pumba kills and pauses exactly the five services, then the demo audits every run. */
function checkChaosProfile(c: Compose) {
  const labels = (s: Service) => (Array.isArray(s.labels) ? Object.fromEntries(s.labels.map((l) => l.split('='))) : s.labels ?? {});
  for (const n of Object.keys(c.services)) expect(labels(c.services[n])['vsva.chaos'], n).toBe((COMPONENTS as readonly string[]).includes(n) ? 'target' : undefined);
  for (const [n, action] of [['pumba-kill', 'kill'], ['pumba-pause', 'pause']] as const) {
    const s = c.services[n];
    expect(s.image, n).toMatch(/^gaiaadm\/pumba:\d/);
    expect(JSON.stringify(s.volumes), n).toContain('/var/run/docker.sock');
    const cmd = s.command ?? [];
    expect(cmd.slice(0, 2), n).toEqual(['--label', 'vsva.chaos=target']);
    expect(cmd, n).toContain(action);
  }
  const demo = c.services['chaos-demo'];
  const deps = demo.depends_on as Record<string, { condition?: string }>;
  for (const n of ['redis', ...COMPONENTS]) expect(deps[n]?.condition, `chaos-demo waits for ${n}`).toBe('service_healthy');
  const script = (demo.command ?? []).join(' ');
  expect(script).toContain('run scenarios/four-vms-two-parents-background.yaml');
  expect(script).toMatch(/; node bin\/vsva-sim\.js audit --all$/);
}

describe('docker-compose.yml', () => {
  it('as written: one build, a healthcheck per service, the demo waits for service_healthy', () => {
    const c = source();
    // keys docker-compose v1 rejects (TOOLCHAIN.md): the file must stay valid for v1 and v2
    expect(Object.keys(c)).not.toContain('name');
    for (const s of Object.values(c.services)) expect(Object.keys(s)).not.toContain('develop');
    checkShape(c);
    checkChaosProfile(c);
  });

  // never skipped: .ci/run installs docker-compose; a machine without it fails here, saying how to get it
  it('docker-compose config -q accepts it, and its normalised model has the same shape', () => {
    expect(compose, 'docker-compose is not on PATH: apt-get install -y --no-install-recommends docker-compose (as .ci/run does)').toBe(true);
    const q = spawnSync('docker-compose', ['-f', FILE, 'config', '-q'], { encoding: 'utf8' });
    expect(q.stderr).toBe('');
    expect(q.status).toBe(0);
    checkShape(normalised());
    checkChaosProfile(normalised());
  });

  it('VSVA_REPLICAS=2 runs two replicas of each of the five services, and one of everything else', () => {
    expect(compose, 'docker-compose is not on PATH: apt-get install -y --no-install-recommends docker-compose (as .ci/run does)').toBe(true);
    const r = spawnSync('docker-compose', ['-f', FILE, '--compatibility', 'config'], { encoding: 'utf8', env: { ...process.env, VSVA_REPLICAS: '2' } });
    expect(r.status, r.stderr).toBe(0);
    const c = parse(r.stdout) as Compose;
    for (const [n, svc] of Object.entries(c.services)) expect(svc.deploy?.replicas ?? 1, n).toBe((COMPONENTS as readonly string[]).includes(n) ? 2 : 1);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync('Dockerfile', 'utf8');
  const stages = text.split(/^FROM /m).slice(1);
  const runtime = stages.find((s) => /^\S+\s+AS\s+runtime\b/i.test(s)) ?? '';

  it('builds in one stage and runs, as a non-root user, from a runtime stage with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime).not.toBe('');
    expect(stages[stages.length - 1]).toBe(runtime); // the default target is the runtime stage
    expect(runtime).toMatch(/npm install [^\n]*--omit=dev/);
    expect(runtime).toMatch(/--ignore-scripts/); // no `prepare`: there is no compiler in this stage
    const user = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]).pop();
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('gives the runtime what `run` and `health` need: the compiled CLI and libs, the bundles, bin/, scenarios/', () => {
    for (const what of ['dist/apps', 'dist/libs', 'dist/services']) expect(runtime).toMatch(new RegExp(`COPY --from=\\S+ \\S*${what} `));
    expect(runtime).toMatch(/^COPY bin /m);
    expect(runtime).toMatch(/^COPY scenarios /m);
    expect(runtime).toMatch(/^COPY package\.json /m); // the CLI reads its version from package.json
  });

  it('.dockerignore keeps host installs, builds and state out of the context', () => {
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', 'dist', '.vsva', '.git']) expect(ignored).toContain(p);
  });
});
