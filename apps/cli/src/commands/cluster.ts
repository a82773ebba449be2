import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { COMPONENTS, type Component } from '../../../../libs/contracts/src/index.js';
import { clusterHealth, productRedis, untilGone, readLeases, spawnServices, waitHealthy, type ClusterConfig, type Health, type LeaseHolder } from '../../../../libs/cluster/src/index.js';
import { loadConfig } from '../../../../libs/config/src/index.js';
import { boundedRedis, redactUrl, startPrivateRedis } from '../../../../libs/redis/src/index.js';
import { clearClusterState, knownClusters, pidAlive, readClusterState, stateDir, writeClusterState } from '../cluster-state.js';
import { infra, usage } from '../errors.js';
import { requireRedis } from '../redis-probe.js';
import { restartRequestFile } from '../supervisor.js';

const say = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The cluster this command is about: the one `up` started, else REDIS_URL; none: exit 3 without touching any Redis. */
function theCluster(): ClusterConfig {
  const c = knownClusters()[0];
  if (!c) throw infra("no cluster here: nothing in .vsva/cluster.json (vsva-sim up) and no REDIS_URL");
  return c;
}

/**
 * Starts Redis (unless REDIS_URL) and a supervisor that runs the five services and restarts any that
 * exits; returns once all five have a heartbeat. Already up: says so (exit 0).
 */
export async function upCommand(): Promise<number> {
  const prev = readClusterState();
  if (prev?.supervisor && pidAlive(prev.supervisor.pid)) {
    say(`a cluster is already up (supervisor pid ${prev.supervisor.pid}, redis ${prev.redisUrl}, prefix ${prev.prefix}): 'vsva-sim status' shows it, 'vsva-sim restart <service>' restarts one`);
    return 0;
  }
  const t0 = Date.now();
  const env = loadConfig();
  let redisUrl = env.redisUrl;
  let redis: { pid: number; dir: string } | undefined;
  if (redisUrl) {
    await requireRedis(redisUrl);
  } else if (prev?.redis && pidAlive(prev.redis.pid)) {
    // the supervisor died, its redis-server did not: keep using it
    redisUrl = prev.redisUrl;
    redis = prev.redis;
    await requireRedis(redisUrl);
  } else {
    const dir = join(stateDir(), 'redis');
    const r = await startPrivateRedis({ dir, ...productRedis(), detached: true }).catch((e: Error) => {
      throw infra(`no Redis: ${e.message}. Set REDIS_URL, or put redis-server on PATH.`);
    });
    redisUrl = r.url;
    redis = { pid: r.pid, dir: r.dir };
    say(`redis: private redis-server at ${r.url}, append-only file in ${r.dir} (pid ${r.pid})`);
  }
  const cfg = { redisUrl, prefix: env.prefix };
  const peek = boundedRedis(redisUrl);
  const leases = await readLeases(peek, cfg.prefix, ['cluster'] as const).finally(() => peek.disconnect());
  const owner = leases.cluster;
  if (owner && owner.role === 'up') {
    say(`namespace '${cfg.prefix}' on ${redactUrl(redisUrl)} is already supervised by pid ${owner.pid} on ${owner.host}: nothing to do`);
    return 0;
  }
  const logDir = join(stateDir(), 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'supervisor.log');
  const fd = openSync(logFile, 'a');
  const sup = spawn(process.execPath, [process.argv[1]!, 'supervise'], {
    // the supervisor's environment: where it serves and keeps its state, whatever this process inherited
    env: { ...process.env, VSVA_REDIS_URL: redisUrl, VSVA_PREFIX: cfg.prefix, VSVA_STATE_DIR: stateDir() },
    stdio: ['ignore', fd, fd], detached: true,
  });
  sup.unref();
  writeClusterState({ redisUrl, prefix: cfg.prefix, startedAt: t0, ...(redis ? { redis } : {}), supervisor: { pid: sup.pid!, logFile }, services: [] });
  try {
    await waitHealthy(cfg, COMPONENTS, 30_000);
  } catch (e) {
    throw infra(`the cluster did not start: ${(e as Error).message}; see ${logFile} and ${logDir}; 'vsva-sim down' cleans up`);
  }
  const h = await clusterHealth(cfg);
  say(`cluster up in ${Date.now() - t0} ms (supervisor pid ${sup.pid}): ${COMPONENTS.map((c) => `${c}:${h[c]?.pid ?? '?'}`).join(' ')}; logs in ${logDir}`);
  // the supervisor and a private redis-server run on; this process has nothing left to do
  process.exit(0);
}

/** Stops what `up` started: the supervisor (which stops the services), then its redis-server. */
export async function downCommand(): Promise<number> {
  const s = readClusterState();
  if (!s) {
    say('no cluster is up (nothing in .vsva/cluster.json)');
    return 0;
  }
  const pids = [...(s.supervisor ? [s.supervisor.pid] : []), ...s.services.map((x) => x.pid)].filter(pidAlive);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  await untilGone(pids, 10_000);
  for (const pid of pids.filter(pidAlive)) process.kill(pid, 'SIGKILL');
  await untilGone(pids, 2000);
  if (s.redis && pidAlive(s.redis.pid)) {
    process.kill(s.redis.pid, 'SIGTERM');
    await untilGone([s.redis.pid], 5000);
  }
  clearClusterState();
  say(`cluster down: stopped ${s.supervisor ? 'the supervisor and ' : ''}${s.services.length} services${s.redis ? ` and redis-server ${s.redis.pid} (data kept in ${s.redis.dir})` : ''}`);
  return 0;
}

function describe(c: Component, h: Health | null, restarts: number | undefined): string {
  const r = restarts ? `  restarts ${restarts}` : '';
  if (!h) return `  ${c.padEnd(14)} down (no heartbeat)${r}`;
  return `  ${c.padEnd(14)} up   pid ${h.pid}  heartbeat ${(h.ageMs / 1000).toFixed(1)} s ago  uptime ${Math.round(h.uptimeMs / 1000)} s  inputs ${h.stats.inputs ?? 0}  duplicates ${h.stats.duplicates ?? 0}${r}`;
}

/** Each service's heartbeat (read only: writes nothing); exit 3 when one is down or Redis is unusable. */
export async function statusCommand(json: boolean): Promise<number> {
  const cfg = theCluster();
  await requireRedis(cfg.redisUrl);
  const redis = boundedRedis(cfg.redisUrl);
  try {
    const [h, lease] = await Promise.all([clusterHealth(cfg, redis), readLeases(redis, cfg.prefix, ['cluster'] as const)]);
    const owner = lease.cluster;
    const restarts = (owner?.stats ?? {}) as Record<string, number>;
    const up = COMPONENTS.filter((c) => h[c]);
    if (json) {
      const services = Object.fromEntries(COMPONENTS.map((c) => [c, h[c] ? { pid: h[c]!.pid, host: h[c]!.host, uptimeMs: h[c]!.uptimeMs, heartbeatAgeMs: h[c]!.ageMs, stats: h[c]!.stats, restarts: restarts[c] ?? 0 } : null]));
      process.stdout.write(`${JSON.stringify({ redis: redactUrl(cfg.redisUrl), prefix: cfg.prefix, owner: owner ? { pid: owner.pid, host: owner.host, role: owner.role } : null, services })}\n`);
    }
    say(`redis ${redactUrl(cfg.redisUrl)} (prefix ${cfg.prefix})${owner ? `, ${owner.role === 'up' ? 'supervised' : 'owned'} by pid ${owner.pid} on ${owner.host}` : ''}`);
    for (const c of COMPONENTS) say(describe(c, h[c], restarts[c]));
    return up.length === COMPONENTS.length ? 0 : 3;
  } finally {
    redis.disconnect();
  }
}

/** For a container's healthcheck: exit 0 when the service's heartbeat is fresh. */
export async function healthCommand(service: string): Promise<number> {
  if (!(COMPONENTS as readonly string[]).includes(service)) throw usage(`no service '${service}': one of ${COMPONENTS.join(', ')}`);
  const cfg = theCluster();
  await requireRedis(cfg.redisUrl);
  const h = (await clusterHealth(cfg))[service as Component];
  if (!h || h.ageMs > loadConfig().leaseMs) {
    say(`${service}: down (no heartbeat in namespace '${cfg.prefix}')`);
    return 3;
  }
  say(`${service}: up, pid ${h.pid} on ${h.host}, heartbeat ${(h.ageMs / 1000).toFixed(1)} s ago`);
  return 0;
}

/**
 * Restarts one service: the supervisor's (`up`) is asked to, by stopping the service and leaving a
 * request; without a supervisor this command stops it and starts a new one in the background.
 */
export async function restartCommand(service: string): Promise<number> {
  if (!(COMPONENTS as readonly string[]).includes(service)) throw usage(`no service '${service}': one of ${COMPONENTS.join(', ')}`);
  const c = service as Component;
  const cfg = theCluster();
  await requireRedis(cfg.redisUrl);
  const redis = boundedRedis(cfg.redisUrl);
  try {
    const leases = await readLeases(redis, cfg.prefix, ['cluster', c] as const);
    const holder: LeaseHolder | null = leases[c];
    // pids mean something on this machine only
    const here = (h: LeaseHolder | null): boolean => !!h && h.host === hostname();
    const owner = leases.cluster;
    const supervised = !!owner && here(owner) && owner.role === 'up' && pidAlive(owner.pid);
    if (holder && !here(holder)) throw infra(`${c} is served by pid ${holder.pid} on ${holder.host}, another machine: restart it where it runs (e.g. docker compose restart ${c})`);
    // a holder that died here (SIGKILL) left its lease behind: the new process takes it over at once
    if (holder && pidAlive(holder.pid)) {
      if (supervised) writeFileSync(restartRequestFile(c), String(Date.now()));
      process.kill(holder.pid, 'SIGTERM');
      await untilGone([holder.pid], 10_000);
      if (pidAlive(holder.pid)) process.kill(holder.pid, 'SIGKILL');
    }
    if (!supervised) {
      const s = readClusterState();
      const [svc] = spawnServices(cfg, [c], { logDir: join(stateDir(), 'logs'), detached: true });
      if (s) writeClusterState({ ...s, redisUrl: cfg.redisUrl, services: [...s.services.filter((x) => x.component !== c), { component: c, pid: svc!.pid, logFile: svc!.logFile }] });
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = (await readLeases(redis, cfg.prefix, [c] as const))[c];
      if (now && now.instance !== holder?.instance) {
        say(`${c}: restarted (pid ${holder?.pid ?? '-'} → ${now.pid})${supervised ? ' by the supervisor' : ''}`);
        return 0;
      }
      if (Date.now() > deadline) throw infra(`${c} did not come back within 30 s: see ${join(stateDir(), 'logs', `${c}.log`)}`);
      await sleep(100);
    }
  } finally {
    redis.disconnect();
  }
}
