import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type ClusterConfig, type SignalHook, type StartedService } from '../../cluster/src/index.js';
import { cpuSecondsOf } from './proc-cpu.js';

/** The five services as separate processes (startCluster, as a `run` starts them; `replicas` of each), on the bench's Redis and prefix. */
export interface ClusterUnderTest {
  cfg: ClusterConfig;
  services: StartedService[];
  startMs: number;
  /** CPU seconds of the service processes so far (null without /proc) */
  cpuSeconds(): number | null;
  stop(): Promise<void>;
}

export async function startClusterUnderTest(redisUrl: string, prefix: string, guard?: SignalHook, o: { replicas?: number } = {}): Promise<ClusterUnderTest> {
  const cfg: ClusterConfig = { redisUrl, prefix };
  const logDir = mkdtempSync(join(tmpdir(), 'vsva-bench-logs-'));
  // Ctrl-C during a bench stops the services at once, not only once they notice their parent is gone:
  // through the caller's guard when it has one, else on handlers of the cluster's own
  const cluster = await startCluster({ cfg, logDir, replicas: o.replicas, healthTimeoutMs: 45_000, stopOnSignals: guard ?? true }).catch((e: Error) => {
    rmSync(logDir, { recursive: true, force: true });
    throw e;
  });
  return {
    cfg, services: cluster.services, startMs: cluster.startMs,
    cpuSeconds: () => cpuSecondsOf(cluster.services.map((s) => s.pid)),
    async stop() {
      await cluster.stop();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}
