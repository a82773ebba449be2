import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../../libs/config/src/index.js';
import type { Component } from '../../../libs/contracts/src/index.js';
import { redactUrl } from '../../../libs/redis/src/index.js';

/** What `vsva-sim up` started, so that `down`, `status`, `restart` and `run` find it. */
export interface ClusterState {
  /** redacted: the password stays in REDIS_URL, never in a file */
  redisUrl: string;
  prefix: string;
  redis?: { pid: number; dir: string };
  /** the process that supervises the services (restarts them) */
  supervisor?: { pid: number; logFile: string };
  services: Array<{ component: Component; pid: number; logFile: string }>;
  startedAt: number;
}

/** VSVA_STATE_DIR: cluster.json, logs/, runs/, a private redis-server's data */
export const stateDir = () => loadConfig().stateDir;
const stateFile = () => join(stateDir(), 'cluster.json');
/** Where every cluster run's log is exported when it ends, so that its id stays replayable without its Redis. */
export const keptRunFile = (runId: string) => join(stateDir(), 'runs', `${runId}.ndjson`);

export function readClusterState(): ClusterState | undefined {
  if (!existsSync(stateFile())) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile(), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}
/** Written whole (rename) and readable by its owner only: it names where the cluster's Redis is. */
export function writeClusterState(s: ClusterState): void {
  mkdirSync(dirname(stateFile()), { recursive: true });
  const tmp = `${stateFile()}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ ...s, redisUrl: redactUrl(s.redisUrl) }, null, 2), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, stateFile());
}
export function clearClusterState(): void {
  rmSync(stateFile(), { force: true });
}
export { pidAlive } from '../../../libs/cluster/src/index.js';

/**
 * The state file keeps a redacted URL; the credentials come back from REDIS_URL when it names the same
 * server. Without them the URL stays redacted, and connecting fails naming authentication.
 */
export function withCredentials(url: string): string {
  if (!url.includes('***')) return url;
  const env = loadConfig().redisUrl;
  if (!env) return url;
  try {
    const a = new URL(url);
    const b = new URL(env);
    return a.host === b.host ? env : url;
  } catch {
    return url;
  }
}

export interface KnownCluster {
  redisUrl: string;
  prefix: string;
  /** where it was found */
  from: 'vsva-sim up' | 'REDIS_URL';
}

/** Where a cluster may already be running: the one `vsva-sim up` started, then one on REDIS_URL. */
export function knownClusters(): KnownCluster[] {
  const state = readClusterState();
  const env = loadConfig();
  const out: KnownCluster[] = [];
  if (state) out.push({ redisUrl: withCredentials(state.redisUrl), prefix: state.prefix, from: 'vsva-sim up' });
  if (env.redisUrl && !out.some((c) => redactUrl(c.redisUrl) === redactUrl(env.redisUrl!) && c.prefix === env.prefix)) {
    out.push({ redisUrl: env.redisUrl, prefix: env.prefix, from: 'REDIS_URL' });
  }
  return out;
}

/** `--engine auto`: the cluster when Redis is configured or a cluster is up, else the embedded engine. */
export function autoEngine(): 'cluster' | 'embedded' {
  return knownClusters().length ? 'cluster' : 'embedded';
}
