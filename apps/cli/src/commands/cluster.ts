import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { COMPONENTS, type Component } from '../../../../libs/contracts/src/index.js';
import type { Redis } from 'ioredis';
import { clusterHealth, signalPid, waitSettled, MAX_REPLICAS, productRedis, untilGone, layoutPartitions, readLeases, readPartitionOwners, readReplicas, spawnServices, waitHealthy, type ClusterConfig, type Health, type LeaseHolder } from '../../../../libs/cluster/src/index.js';
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
export async function upCommand(opts: { replicas?: number } = {}): Promise<number> {
  const replicas = opts.replicas ?? loadConfig().replicas;
  if (!(Number.isInteger(replicas) && replicas >= 1 && replicas <= MAX_REPLICAS)) throw usage(`--replicas must be from 1 to ${MAX_REPLICAS}, got ${replicas}`);
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
  const sup = spawn(process.execPath, [process.argv[1]!, 'supervise', '--replicas', String(replicas)], {
    // the supervisor's environment: where it serves and keeps its state, whatever this process inherited
    env: { ...process.env, VSVA_REDIS_URL: redisUrl, VSVA_PREFIX: cfg.prefix, VSVA_STATE_DIR: stateDir() },
    stdio: ['ignore', fd, fd], detached: true,
  });
  sup.unref();
  writeClusterState({ redisUrl, prefix: cfg.prefix, startedAt: t0, ...(redis ? { redis } : {}), supervisor: { pid: sup.pid!, logFile }, services: [] });
  try {
    await waitReplicas(cfg, replicas, 30_000 + 5_000 * (replicas - 1));
  } catch (e) {
    throw infra(`the cluster did not start: ${(e as Error).message}; see ${logFile} and ${logDir}; 'vsva-sim down' cleans up`);
  }
  const h = await clusterHealth(cfg);
  const pids = (c: Component) => h[c]?.replicas.map((r) => r.pid).join(',') ?? '?';
  say(`cluster up in ${Date.now() - t0} ms (supervisor pid ${sup.pid}${replicas > 1 ? `, ${replicas} replicas per service` : ''}): ${COMPONENTS.map((c) => `${c}:${pids(c)}`).join(' ')}; logs in ${logDir}`);
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
  for (const pid of pids) signalPid(pid, 'SIGTERM');
  await untilGone(pids, 10_000);
  for (const pid of pids.filter(pidAlive)) signalPid(pid, 'SIGKILL');
  await untilGone(pids, 2000);
  if (s.redis && signalPid(s.redis.pid, 'SIGTERM')) await untilGone([s.redis.pid], 5000);
  clearClusterState();
  say(`cluster down: stopped ${s.supervisor ? 'the supervisor and ' : ''}${s.services.length} services${s.redis ? ` and redis-server ${s.redis.pid} (data kept in ${s.redis.dir})` : ''}`);
  return 0;
}

/** Until every service has `n` live replicas, each owning its share of the partitions (a run started then finds every partition consumed, by its lasting owner). */
async function waitReplicas(cfg: ClusterConfig, n: number, timeoutMs: number): Promise<void> {
  await waitHealthy(cfg, COMPONENTS, timeoutMs);
  await waitSettled(cfg, COMPONENTS, n, loadConfig().partitions, timeoutMs);
}

interface ClusterView {
  /** by service, each partition's owner (its slot and pid), or null */
  partitions: Record<Component, Array<{ slot?: number; pid: number } | null>>;
}

/** Every partition's owner, in the namespace's layout: one MGET per service (writes nothing). */
async function clusterView(cfg: ClusterConfig, redis: Redis): Promise<ClusterView> {
  const n = await layoutPartitions(redis, cfg.prefix, loadConfig().partitions);
  const owners = await Promise.all(COMPONENTS.map((c) => readPartitionOwners(redis, cfg.prefix, c, n)));
  return {
    partitions: Object.fromEntries(COMPONENTS.map((c, i) => [c, owners[i]!.map((o) => (o ? { pid: o.pid, ...(o.slot === undefined ? {} : { slot: o.slot }) } : null))])) as ClusterView['partitions'],
  };
}

function describe(c: Component, h: Health | null, restarts: number | undefined, owners: ClusterView['partitions'][Component]): string[] {
  const r = restarts ? `  restarts ${restarts}` : '';
  if (!h) return [`  ${c.padEnd(14)} down (no heartbeat)${r}  partitions: ${owners.length} unowned`];
  const lines = h.replicas.length > 1 ? [`  ${c.padEnd(14)} up   ${h.replicas.length} replicas${r}`] : [];
  const unowned = owners.flatMap((o, p) => (o ? [] : [p]));
  for (const x of h.replicas) {
    const mine = owners.flatMap((o, p) => (o?.slot === x.slot ? [p] : []));
    const head = h.replicas.length > 1 ? `    #${x.slot}`.padEnd(17) : `  ${c.padEnd(14)} up  `;
    lines.push(`${head} pid ${x.pid}  heartbeat ${(x.ageMs / 1000).toFixed(1)} s ago  uptime ${Math.round(x.uptimeMs / 1000)} s  inputs ${x.stats.inputs ?? 0}  duplicates ${x.stats.duplicates ?? 0}  partitions ${mine.join(',') || '-'}${h.replicas.length > 1 ? '' : r}`);
  }
  if (unowned.length) lines.push(`    partitions ${unowned.join(',')} unowned (being handed over, or their owner died within its lease)`);
  return lines;
}

/** Each service's replicas by their heartbeats and the partitions each owns (read only: writes nothing); exit 3 when one is down or Redis is unusable. */
export async function statusCommand(json: boolean): Promise<number> {
  const cfg = theCluster();
  await requireRedis(cfg.redisUrl);
  const redis = boundedRedis(cfg.redisUrl);
  try {
    const [h, lease] = await Promise.all([clusterHealth(cfg, redis), readLeases(redis, cfg.prefix, ['cluster'] as const)]);
    const view = await clusterView(cfg, redis);
    const owner = lease.cluster;
    const restarts = (owner?.stats ?? {}) as Record<string, number>;
    const up = COMPONENTS.filter((c) => h[c]);
    if (json) {
      const replica = (x: Health['replicas'][number]) => ({ slot: x.slot, pid: x.pid, host: x.host, uptimeMs: x.uptimeMs, heartbeatAgeMs: x.ageMs, stats: x.stats });
      const services = Object.fromEntries(COMPONENTS.map((c) => [c, h[c] ? { pid: h[c]!.pid, host: h[c]!.host, uptimeMs: h[c]!.uptimeMs, heartbeatAgeMs: h[c]!.ageMs, stats: h[c]!.stats, restarts: restarts[c] ?? 0, replicas: h[c]!.replicas.map(replica), partitions: view.partitions[c] } : null]));
      process.stdout.write(`${JSON.stringify({ redis: redactUrl(cfg.redisUrl), prefix: cfg.prefix, partitions: view.partitions[COMPONENTS[0]].length, owner: owner ? { pid: owner.pid, host: owner.host, role: owner.role } : null, services })}\n`);
    }
    say(`redis ${redactUrl(cfg.redisUrl)} (prefix ${cfg.prefix}, ${view.partitions[COMPONENTS[0]].length} partitions per service)${owner ? `, ${owner.role === 'up' ? 'supervised' : 'owned'} by pid ${owner.pid} on ${owner.host}` : ''}`);
    for (const c of COMPONENTS) for (const line of describe(c, h[c], restarts[c], view.partitions[c])) say(line);
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
 * Restarts one service, every replica of it: the supervisor's (`up`) is asked to, by stopping each
 * process and leaving a request; without a supervisor this command stops them and starts as many new
 * ones in the background. Returns once as many fresh replicas hold slots.
 */
export async function restartCommand(service: string): Promise<number> {
  if (!(COMPONENTS as readonly string[]).includes(service)) throw usage(`no service '${service}': one of ${COMPONENTS.join(', ')}`);
  const c = service as Component;
  const cfg = theCluster();
  await requireRedis(cfg.redisUrl);
  const redis = boundedRedis(cfg.redisUrl);
  try {
    const [leases, live] = await Promise.all([readLeases(redis, cfg.prefix, ['cluster'] as const), readReplicas(redis, cfg.prefix, [c], true)]);
    const holders = live[c];
    // pids mean something on this machine only
    const here = (h: LeaseHolder | null): boolean => !!h && h.host === hostname();
    const owner = leases.cluster;
    const supervised = !!owner && here(owner) && owner.role === 'up' && pidAlive(owner.pid);
    const away = holders.find((h) => !here(h));
    if (away) throw infra(`${c} is served by pid ${away.pid} on ${away.host}, another machine: restart it where it runs (e.g. docker compose restart ${c})`);
    // a holder that died here (SIGKILL) left its lease behind: the new process takes it over at once
    for (const h of holders.filter((x) => pidAlive(x.pid))) {
      if (supervised) writeFileSync(restartRequestFile(c, h.pid), String(Date.now()));
      signalPid(h.pid, 'SIGTERM');
    }
    const pids = holders.map((h) => h.pid);
    await untilGone(pids, 10_000);
    for (const pid of pids.filter(pidAlive)) signalPid(pid, 'SIGKILL');
    const want = Math.max(1, holders.length);
    if (!supervised) {
      const s = readClusterState();
      const fresh = Array.from({ length: want }, (_, k) => spawnServices(cfg, [c], { logDir: join(stateDir(), 'logs'), detached: true, ...(k ? { logName: `${c}.${k}` } : {}) })[0]!);
      if (s) writeClusterState({ ...s, redisUrl: cfg.redisUrl, services: [...s.services.filter((x) => x.component !== c), ...fresh.map((svc) => ({ component: c, pid: svc.pid, logFile: svc.logFile }))] });
    }
    const old = new Set(holders.map((h) => h.instance));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = (await readReplicas(redis, cfg.prefix, [c]))[c].filter((h) => !old.has(h.instance));
      if (now.length >= want) {
        say(`${c}: restarted (pid ${pids.join(',') || '-'} → ${now.map((h) => h.pid).join(',')})${supervised ? ' by the supervisor' : ''}`);
        return 0;
      }
      if (Date.now() > deadline) throw infra(`${c} did not come back within 30 s (${now.length} of ${want} replicas): see ${join(stateDir(), 'logs', `${c}.log`)}`);
      await sleep(100);
    }
  } finally {
    redis.disconnect();
  }
}
