import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServices, stopServices, waitHealthy, type ClusterConfig, type StartedService } from '../../cluster/src/index.js';
import { COMPONENTS } from '../../contracts/src/index.js';
import { cpuSecondsOf } from './proc-cpu.js';

/** The five services as separate processes (as `vsva-sim up` starts them), on the bench's Redis and prefix. */
export interface ClusterUnderTest {
  cfg: ClusterConfig;
  services: StartedService[];
  startMs: number;
  /** CPU seconds of the five service processes so far (null without /proc) */
  cpuSeconds(): number | null;
  stop(): Promise<void>;
}

export async function startClusterUnderTest(redisUrl: string, prefix: string): Promise<ClusterUnderTest> {
  const cfg: ClusterConfig = { redisUrl, prefix };
  const logDir = mkdtempSync(join(tmpdir(), 'vsva-bench-logs-'));
  const t0 = Date.now();
  const services = spawnServices(cfg, COMPONENTS, { logDir });
  try {
    await waitHealthy(cfg, COMPONENTS, 45_000, services);
  } catch (e) {
    await stopServices(services);
    throw e;
  }
  return {
    cfg, services, startMs: Date.now() - t0,
    cpuSeconds: () => cpuSecondsOf(services.map((s) => s.pid)),
    async stop() {
      await stopServices(services);
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}
