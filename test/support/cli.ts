import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCluster } from './cluster.js';

/** Writes the `.vsva/cluster.json` that `vsva-sim up` would, pointing at a test cluster. */
export function writeClusterStateFor(stateDir: string, c: TestCluster): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'cluster.json'), JSON.stringify({
    redisUrl: c.cfg.redisUrl, prefix: c.cfg.prefix, startedAt: Date.now(),
    services: c.services.map((s) => ({ component: s.component, pid: s.pid, logFile: s.logFile })),
  }));
}
