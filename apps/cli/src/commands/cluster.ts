import { join } from 'node:path';
import { COMPONENTS } from '../../../../libs/contracts/src/index.js';
import { clusterHealth, resolveRedis, spawnServices, waitHealthy } from '../../../../libs/cluster/src/index.js';
import { clearClusterState, envRedis, knownClusters, pidAlive, readClusterState, STATE_DIR, writeClusterState } from '../cluster-state.js';
import { infra } from '../errors.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

/** Starts Redis (unless REDIS_URL) and the five services in the background; `down` stops them. */
export async function upCommand(): Promise<number> {
  const prev = readClusterState();
  if (prev && prev.services.some((s) => pidAlive(s.pid))) {
    say(`a cluster is already up (pids ${prev.services.map((s) => s.pid).join(' ')}): 'vsva-sim down' first`);
    return 2;
  }
  const t0 = Date.now();
  const redis = await resolveRedis(join(STATE_DIR, 'redis'), process.env).catch((e: Error) => {
    throw infra(`no Redis: ${e.message}`);
  });
  if (redis.private) say(`redis: private redis-server at ${redis.url}, append-only file in ${redis.private.dir} (pid ${redis.private.pid})`);
  const cfg = { redisUrl: redis.url, prefix: envRedis().prefix };
  const services = spawnServices(cfg, COMPONENTS, { logDir: join(STATE_DIR, 'logs'), detached: true });
  writeClusterState({
    redisUrl: cfg.redisUrl, prefix: cfg.prefix, startedAt: t0,
    ...(redis.private ? { redis: { pid: redis.private.pid, dir: redis.private.dir } } : {}),
    services: services.map((s) => ({ component: s.component, pid: s.pid, logFile: s.logFile })),
  });
  try {
    await waitHealthy(cfg, COMPONENTS, 30_000, services);
  } catch (e) {
    throw infra(`the cluster did not start: ${(e as Error).message}; 'vsva-sim down' cleans up`);
  }
  say(`cluster up in ${Date.now() - t0} ms: ${services.map((s) => `${s.component}:${s.pid}`).join(' ')}; logs in ${join(STATE_DIR, 'logs')}`);
  // a detached private redis-server keeps running after this process; forget our handle only
  process.exit(0);
}

export async function downCommand(): Promise<number> {
  const s = readClusterState();
  if (!s) {
    say('no cluster is up (nothing in .vsva/cluster.json)');
    return 0;
  }
  for (const svc of s.services) if (pidAlive(svc.pid)) process.kill(svc.pid, 'SIGTERM');
  const deadline = Date.now() + 8000;
  while (s.services.some((x) => pidAlive(x.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const svc of s.services) if (pidAlive(svc.pid)) process.kill(svc.pid, 'SIGKILL');
  if (s.redis && pidAlive(s.redis.pid)) process.kill(s.redis.pid, 'SIGTERM');
  clearClusterState();
  say(`cluster down: stopped ${s.services.length} services${s.redis ? ` and redis-server ${s.redis.pid} (data kept in ${s.redis.dir})` : ''}`);
  return 0;
}

export async function statusCommand(json: boolean): Promise<number> {
  const cfg = knownClusters()[0] ?? { redisUrl: 'redis://127.0.0.1:6379', prefix: envRedis().prefix };
  const h = await clusterHealth(cfg).catch((e: Error) => {
    throw infra(`cannot reach Redis at ${cfg.redisUrl}: ${e.message}`);
  });
  const up = COMPONENTS.filter((c) => h[c]);
  if (json) process.stdout.write(`${JSON.stringify({ redis: cfg.redisUrl, prefix: cfg.prefix, services: h })}\n`);
  say(`redis ${cfg.redisUrl} (prefix ${cfg.prefix})`);
  for (const c of COMPONENTS) {
    const x = h[c];
    say(`  ${c.padEnd(14)} ${x ? `up   pid ${x.pid}  uptime ${Math.round(x.uptimeMs / 1000)} s  inputs ${x.stats.inputs ?? 0}  duplicates ${x.stats.duplicates ?? 0}` : 'down'}`);
  }
  return up.length === COMPONENTS.length ? 0 : 3;
}
