import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Component } from '../../../libs/contracts/src/index.js';

/** What `vsva-sim up` started, so that `down`, `status` and `run` find it. */
export interface ClusterState {
  redisUrl: string;
  prefix: string;
  redis?: { pid: number; dir: string };
  services: Array<{ component: Component; pid: number; logFile: string }>;
  startedAt: number;
}

export const STATE_DIR = process.env.VSVA_STATE_DIR ?? join(process.cwd(), '.vsva');
const STATE_FILE = join(STATE_DIR, 'cluster.json');

export function readClusterState(): ClusterState | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}
export function writeClusterState(s: ClusterState): void {
  mkdirSync(dirname(STATE_FILE), { recursive: true });
  writeFileSync(STATE_FILE, JSON.stringify(s, null, 2));
}
export function clearClusterState(): void {
  rmSync(STATE_FILE, { force: true });
}
export const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Redis named by the environment (an empty variable counts as unset) and the key/queue prefix. */
export function envRedis(): { redisUrl?: string; prefix: string } {
  return { redisUrl: process.env.VSVA_REDIS_URL || process.env.REDIS_URL || undefined, prefix: process.env.VSVA_PREFIX || 'vsva' };
}

/** Where a cluster may already be running: the one `vsva-sim up` started, then one on REDIS_URL. */
export function knownClusters(): Array<{ redisUrl: string; prefix: string }> {
  const state = readClusterState();
  const env = envRedis();
  return [
    ...(state ? [{ redisUrl: state.redisUrl, prefix: state.prefix }] : []),
    ...(env.redisUrl ? [{ redisUrl: env.redisUrl, prefix: env.prefix }] : []),
  ];
}

/** `--engine auto`: the cluster when Redis is configured or a cluster is up, else the embedded engine. */
export function autoEngine(): 'cluster' | 'embedded' {
  return knownClusters().length ? 'cluster' : 'embedded';
}
