import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { COMPONENTS, type Component } from '../../../libs/contracts/src/index.js';
import { EXIT_LEASE_HELD, Lease, LeaseHeldError, leaseKey, spawnServices, stopServices, type StartedService } from '../../../libs/cluster/src/index.js';
import { loadConfig } from '../../../libs/config/src/index.js';
import { boundedRedis, redactUrl } from '../../../libs/redis/src/index.js';
import { readClusterState, stateDir, writeClusterState } from './cluster-state.js';

/** `vsva-sim restart <service>` leaves this file for the supervisor: the next exit of that process was asked for. */
export const restartRequestFile = (c: Component, pid: number) => join(stateDir(), `restart-${c}-${pid}.request`);

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** a service that ran this long before it died starts its backoff again from the minimum */
const STABLE_MS = 60_000;

const log = (s: string) => process.stderr.write(`${new Date().toISOString()} supervisor: ${s}\n`);

/**
 * What `vsva-sim up` leaves running (detached): the five services (`replicas` processes of each) as its children, each restarted with
 * exponential backoff when it exits, every restart logged and counted in the namespace's cluster
 * lease (which `status` reads). SIGTERM/SIGINT stops them all within a deadline, then SIGKILL.
 * It starts each service by itself, since each has its own restart loop and `up` waits for their
 * health: startCluster's parts (spawnServices, stopServices), not startCluster.
 */
export async function superviseCommand(replicas = 1): Promise<number> {
  const { redisUrl, prefix } = loadConfig();
  if (!redisUrl) throw new Error('supervise: VSVA_REDIS_URL is not set (it is started by vsva-sim up)');
  const cfg = { redisUrl, prefix };
  const logDir = join(stateDir(), 'logs');
  mkdirSync(logDir, { recursive: true });
  const redis = boundedRedis(redisUrl, { maxRetriesPerRequest: 1 });
  const restarts: Record<string, number> = {};
  const lease = new Lease(redis, leaseKey(prefix, 'cluster'), { role: 'up', stats: () => ({ ...restarts }) });
  try {
    await lease.acquire(`namespace '${prefix}'`);
  } catch (e) {
    log((e as Error).message);
    redis.disconnect();
    return e instanceof LeaseHeldError ? EXIT_LEASE_HELD : 3;
  }
  log(`supervising ${COMPONENTS.join(', ')}${replicas > 1 ? ` (${replicas} replicas each)` : ''} on ${redactUrl(redisUrl)} prefix ${prefix} (pid ${process.pid})`);
  // by component and replica: `host-vtd#1`
  const current = new Map<string, StartedService>();
  let stopping = false;

  const record = () => {
    const s = readClusterState();
    if (s) writeClusterState({ ...s, services: [...current.values()].map((x) => ({ component: x.component, pid: x.pid, logFile: x.logFile })) });
  };

  const keep = async (c: Component, k: number) => {
    let failures = 0;
    while (!stopping) {
      const [svc] = spawnServices(cfg, [c], { logDir, ...(k ? { logName: `${c}.${k}` } : {}) });
      current.set(`${c}#${k}`, svc!);
      record();
      const t0 = Date.now();
      const code = await new Promise<string>((r) => svc!.child.once('exit', (code, sig) => r(sig ?? String(code))));
      if (stopping) return;
      const requested = existsSync(restartRequestFile(c, svc!.pid));
      rmSync(restartRequestFile(c, svc!.pid), { force: true });
      if (Date.now() - t0 > STABLE_MS || requested) failures = 0;
      failures++;
      restarts[c] = (restarts[c] ?? 0) + 1;
      const wait = requested ? 0 : Number(code) === EXIT_LEASE_HELD ? 2000 : Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 1));
      log(`${c} (pid ${svc!.pid}) exited (${code})${requested ? ' as asked by vsva-sim restart' : Number(code) === EXIT_LEASE_HELD ? ': another live process holds its queue' : ''}; restart #${restarts[c]} in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
    }
  };

  const done = new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: stopping the services`);
      void stopServices([...current.values()], 5000)
        .then(() => lease.release())
        .finally(() => {
          redis.disconnect();
          resolve();
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => stop('SIGHUP'));
  });
  for (const c of COMPONENTS) for (let k = 0; k < replicas; k++) void keep(c, k);
  await done;
  log('stopped');
  return 0;
}
