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
