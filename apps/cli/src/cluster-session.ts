import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { COMPONENTS, type Component, type LogEntry } from '../../../libs/contracts/src/index.js';
import type { ClusterConfig, Health, Lease, RunRequest, RunningCluster } from '../../../libs/cluster/src/index.js';
import { loadConfig } from '../../../libs/config/src/index.js';
import type { RedisRunLog } from '../../../libs/event-log/src/index.js';
import { redactUrl } from '../../../libs/redis/src/index.js';
import { knownClusters, stateDir, type KnownCluster } from './cluster-state.js';
import { bounded, openClusterRunner, type ClusterRunReport } from './cluster-run.js';
import { infra } from './errors.js';
import { onCleanup } from './process-guard.js';
import { requireRedis } from './redis-probe.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

/** A cluster to run scenarios on: attached to running services, or started for this command. */
export interface ClusterSession {
  cfg: ClusterConfig;
  log: RedisRunLog;
  /** time the services took to come up, when this command started them */
  startMs: number;
  newRunId(): string;
  /** runs one scenario; `onEntries` sees the log as it grows (the timeline) */
  run(req: RunRequest, onEntries?: (es: LogEntry[]) => void): Promise<ClusterRunReport>;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** bound on one run's request */
  timeoutMs: number;
  /** an outage longer than this ends a run as infrastructure */
  stepTimeoutMs: number;
  /** keep a private redis-server's folder after the command */
  keep?: boolean;
}

/** Users of a cluster that a `run` started for itself: it stops its services only once they are done. */
const usersKey = (prefix: string) => `${prefix}:cluster:users`;
const USER_TTL_MS = 4000;

type Stack = typeof import('../../../libs/cluster/src/index.js');

/**
 * One set of consumers per namespace (issue 8). In order:
 *  1. a known cluster (`vsva-sim up`, or REDIS_URL) whose five services all have a heartbeat: used;
 *  2. one owned by a live process (`up`'s supervisor, or another `run`) that is missing services: waited
 *     for while its owner brings them back, else exit 3 naming what is missing;
 *  3. services without an owner (compose, started by hand) with some missing: only those are started;
 *  4. nothing there: this command takes the namespace (a lease, so two commands racing cannot both)
 *     and starts the five, on REDIS_URL or a private redis-server, and stops them when done.
 * A service never starts on a queue that a live process consumes: the service itself refuses.
 */
export async function openClusterSession(o: SessionOptions): Promise<ClusterSession> {
  const stack = await import('../../../libs/cluster/src/index.js');
  const { boundedRedis } = await import('../../../libs/redis/src/index.js');
  const owned: RunningCluster[] = [];
  const stops: Array<() => Promise<void>> = [];
  let startMs = 0;
  let cfg: ClusterConfig | undefined;
  let userTimer: NodeJS.Timeout | undefined;
  let control: Redis | undefined;

  const known = knownClusters();
  for (const c of known) {
    await requireRedis(c.redisUrl);
    control = boundedRedis(c.redisUrl);
    const got = await attachOrComplete(stack, c, control, owned, o);
    if (got === 'free' && c.from === 'vsva-sim up' && known.length > 1) {
      // a stale state file; REDIS_URL comes next
      control.disconnect();
      continue;
    }
    cfg = c;
    if (got === 'free') {
      const t0 = Date.now();
      const lease = await ownNamespace(stack, c, control);
      if (!lease) {
        // another command took it a moment ago: use what it starts
        await waitFor(stack, c, COMPONENTS, 30_000, 'the services another command is starting');
      } else {
        stops.push(() => lease.release());
        await startServices(stack, c, COMPONENTS, owned);
        startMs = Date.now() - t0;
      }
    } else if (got === 'attached-to-run') {
      // the services belong to another `run`: it waits for its users before stopping them
      const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
      const beat = () => void control!.zadd(usersKey(c.prefix), Date.now() + USER_TTL_MS, id).catch(() => {});
      beat();
      userTimer = setInterval(beat, 1000);
      stops.push(async () => {
        clearInterval(userTimer);
        await control!.zrem(usersKey(c.prefix), id).catch(() => {});
      });
    }
    break;
  }

  if (!cfg) {
    // no Redis configured (knownClusters holds the configured one): a private redis-server of this command, with its append-only file
    const dir = join(stateDir(), `redis-${process.pid}`);
    const redis = await stack.resolveRedis(dir).catch((e: Error) => {
      throw infra(`no Redis: ${e.message}. Set REDIS_URL, or put redis-server on PATH.`);
    });
    const priv = redis.private!;
    const unregister = onCleanup(`redis-server ${priv.pid}`, () => priv.stop());
    stops.push(async () => {
      await priv.stop();
      unregister();
      if (o.keep) say(`redis: kept ${priv.dir} (--keep)`);
      else rmSync(priv.dir, { recursive: true, force: true });
    });
    say(`redis: private redis-server (pid ${priv.pid}) at ${priv.url}, append-only file in ${priv.dir}${o.keep ? '' : ' (removed after the run; --keep keeps it)'}`);
    cfg = { redisUrl: redis.url, prefix: loadConfig().prefix, from: 'REDIS_URL' } as KnownCluster;
    control = boundedRedis(cfg.redisUrl);
    const t0 = Date.now();
    const lease = await ownNamespace(stack, cfg as KnownCluster, control);
    if (lease) stops.push(() => lease.release());
    await startServices(stack, cfg, COMPONENTS, owned);
    startMs = Date.now() - t0;
  }

  const session = cfg;
  const runner = await openClusterRunner(session, o);

  const closeAll = async () => {
    clearInterval(userTimer);
    await runner.close();
    if (owned.length) {
      await waitForUsers(control, session.prefix, Math.min(o.timeoutMs, 120_000));
      await Promise.all(owned.map((c) => c.stop()));
    }
    for (const s of stops.reverse()) await bounded(s(), 5000);
    control?.disconnect();
  };
  const unregister = onCleanup(owned.length ? `the ${owned.flatMap((c) => c.services).length} services this command started` : 'the cluster connections', closeAll);

  return {
    cfg: session, log: runner.log, startMs,
    newRunId: () => `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    run: (req, onEntries) => runner.run(req, { onEntries }),
    async close() {
      unregister();
      await closeAll();
    },
  };
}

type Found = 'attached' | 'attached-to-run' | 'completed' | 'free';

/** Cases 1-3 of openClusterSession for one known cluster; 'free' when nothing serves its namespace. */
async function attachOrComplete(stack: Stack, c: KnownCluster, redis: Redis, owned: RunningCluster[], o: SessionOptions): Promise<Found> {
  const where = `redis ${redactUrl(c.redisUrl)}, prefix ${c.prefix}`;
  const [health, leases] = await Promise.all([stack.clusterHealth(c, redis), stack.readLeases(redis, c.prefix, ['cluster'] as const)]);
  const owner = leases.cluster;
  const missing = COMPONENTS.filter((k) => !health[k]);
  if (!missing.length) {
    say(`cluster: using the running services (${where}${owner ? `, owned by pid ${owner.pid}` : ''})`);
    return owner?.role === 'run' ? 'attached-to-run' : 'attached';
  }
  if (missing.length === COMPONENTS.length && !owner) return 'free';
  if (owner) {
    say(`cluster: ${missing.join(', ')} missing in ${where}; its owner (pid ${owner.pid}, ${owner.role ?? '?'}) is bringing them back: waiting`);
    await waitFor(stack, c, missing, Math.min(o.timeoutMs, 20_000), `the owner of namespace '${c.prefix}' (pid ${owner.pid} on ${owner.host}) to restart ${missing.join(', ')}`);
    return owner.role === 'run' ? 'attached-to-run' : 'attached';
  }
  say(`cluster: ${missing.join(', ')} missing in ${where} (no heartbeat); starting only ${missing.length === 1 ? 'it' : 'those'}`);
  await startServices(stack, c, missing, owned);
  return 'completed';
}

/** Takes the namespace's cluster lease for this command; undefined when another live command holds it. */
async function ownNamespace(stack: Stack, c: ClusterConfig, redis: Redis): Promise<Lease | undefined> {
  const lease = new stack.Lease(redis, stack.leaseKey(c.prefix, 'cluster'), { role: 'run' });
  try {
    await lease.acquire(`namespace '${c.prefix}'`);
    return lease;
  } catch (e) {
    if (e instanceof stack.LeaseHeldError) return undefined;
    throw e;
  }
}

/** Starts services for this command (startCluster); until they are stopped, a signal or a failure stops them too. */
async function startServices(stack: Stack, c: ClusterConfig, components: readonly Component[], owned: RunningCluster[]): Promise<void> {
  const cluster = await stack.startCluster({ cfg: c, components, logDir: join(stateDir(), 'logs'), stopOnSignals: onCleanup }).catch((e: Error) => {
    throw infra(`the cluster did not start: ${e.message}`);
  });
  owned.push(cluster);
  const refused = cluster.services.filter((s) => s.child.exitCode === stack.EXIT_LEASE_HELD);
  const up = cluster.services.filter((s) => !refused.includes(s));
  say(`cluster: ${up.length} services up (${up.map((s) => `${s.component}:${s.pid}`).join(' ')})${refused.length ? `; ${refused.map((s) => s.component).join(', ')} already served by another process` : ''}`);
}

async function waitFor(stack: Stack, c: ClusterConfig, components: readonly Component[], ms: number, what: string): Promise<void> {
  await stack.waitHealthy(c, components, ms).catch((e: Error) => {
    throw infra(`gave up waiting for ${what}: ${e.message}. See 'vsva-sim status'; 'vsva-sim restart <service>' or 'vsva-sim down' and 'up'.`);
  });
}

/** Before stopping services other commands use: until they are done (their heartbeats lapse), bounded. */
async function waitForUsers(redis: Redis | undefined, prefix: string, ms: number): Promise<void> {
  if (!redis) return;
  const deadline = Date.now() + ms;
  let said = false;
  for (;;) {
    const n = await redis
      .multi().zremrangebyscore(usersKey(prefix), '-inf', Date.now()).zcard(usersKey(prefix)).exec()
      .then((r) => Number(r?.[1]?.[1] ?? 0), () => 0);
    if (n === 0 || Date.now() > deadline) return;
    if (!said) say(`cluster: ${n} other run(s) use the services this command started: stopping them once they are done`);
    said = true;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export type { Health };
