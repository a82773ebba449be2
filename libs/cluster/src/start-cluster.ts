import { COMPONENTS, type Component } from '../../contracts/src/index.js';
import type { ClusterConfig } from './config.js';
import { loadConfig } from '../../config/src/index.js';
import { waitHealthy } from './health.js';
import { waitSettled } from './partitions/settled.js';
import { spawnServices, stopServices, type StartedService } from './service-process.js';

/**
 * Hands `stop` to the caller's own signal handling (the CLI's onCleanup, which owns its exit codes);
 * returns how to take it back, which stop() does once it has run.
 */
export type SignalHook = (what: string, stop: () => Promise<void>) => () => void;

export interface StartClusterOptions {
  cfg: ClusterConfig;
  /** default: all five */
  components?: readonly Component[];
  /** processes of each component (replicas sharing its partitions); default 1 */
  replicas?: number;
  /** each service's output goes to `<logDir>/<service>.log` */
  logDir: string;
  /** added to the services' environment, e.g. a short VSVA_LOCK_MS */
  env?: NodeJS.ProcessEnv;
  /** how long the services may take to hold their leases (default 30 s) */
  healthTimeoutMs?: number;
  /** stop(): SIGTERM, then SIGKILL past this (default 5 s) */
  stopGraceMs?: number;
  /**
   * Also stop on SIGINT, SIGTERM and SIGHUP, from the moment the services are spawned. `true`: handlers
   * of this cluster's own, which re-raise the signal once the services are stopped unless something
   * else listens for it; a SignalHook: the caller's handling.
   */
  stopOnSignals?: boolean | SignalHook;
}

/** Services this process started; stop() is idempotent. */
export interface RunningCluster {
  cfg: ClusterConfig;
  /** `replicas` per component, replica 0 of each first; one that found every slot held by live processes has exited with EXIT_LEASE_HELD */
  services: StartedService[];
  /** spawn to every lease held, ms */
  startMs: number;
  stop(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * The one way to start services and stop them (the CLI's run, the bench, the tests): spawns the
 * compiled services, waits until each holds its lease (or another live process holds it for them),
 * and returns them with their stop. A service that exits first, or a deadline passed, stops the rest
 * and throws naming them.
 */
export async function startCluster(o: StartClusterOptions): Promise<RunningCluster> {
  const components = o.components ?? COMPONENTS;
  const t0 = Date.now();
  const services = spawnServices(o.cfg, components, { logDir: o.logDir, env: o.env });
  for (let k = 1; k < (o.replicas ?? 1); k++) {
    for (const c of components) services.push(...spawnServices(o.cfg, [c], { logDir: o.logDir, env: o.env, logName: `${c}.${k}` }));
  }
  let stopping: Promise<void> | undefined;
  let withdraw = () => {};
  const stop = () =>
    (stopping ??= (async () => {
      withdraw();
      await stopServices(services, o.stopGraceMs);
    })());
  const what = `the ${services.length === 1 ? services[0]!.component : `${services.length} services`} started here`;
  if (typeof o.stopOnSignals === 'function') withdraw = o.stopOnSignals(what, stop);
  else if (o.stopOnSignals) withdraw = stopOnOwnSignals(stop);
  try {
    await waitHealthy(o.cfg, components, o.healthTimeoutMs ?? 30_000, services);
    // replicas share the partitions out within a lease's third: a run asked for now meets them settled
    if ((o.replicas ?? 1) > 1) await waitSettled(o.cfg, components, o.replicas!, o.cfg.partitions ?? loadConfig({ ...process.env, ...o.env }).partitions, o.healthTimeoutMs ?? 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { cfg: o.cfg, services, startMs: Date.now() - t0, stop };
}

/**
 * A listener on a signal replaces Node's default (exit): once stopped, the signal is raised again
 * when no one else listens, so the process still ends as the signal says.
 */
function stopOnOwnSignals(stop: () => Promise<void>): () => void {
  const handlers = SIGNALS.map((sig) => {
    const h = () => void stop().finally(() => process.listenerCount(sig) === 0 && process.kill(process.pid, sig));
    process.once(sig, h);
    return [sig, h] as const;
  });
  return () => handlers.forEach(([sig, h]) => process.removeListener(sig, h));
}

