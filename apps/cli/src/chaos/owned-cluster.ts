import { rmSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { join } from 'node:path';
import { COMPONENTS, type Component } from '../../../../libs/contracts/src/index.js';
import { productRedis, startCluster, untilGone, waitHealthy, type ClusterConfig, type RunningCluster, type SignalHook, type StartedService } from '../../../../libs/cluster/src/index.js';
import { boundedRedis, startPrivateRedis, waitForRedis, type PrivateRedis } from '../../../../libs/redis/src/index.js';
import { infra } from '../errors.js';
import { onCleanup } from '../process-guard.js';
import { dropConnectionsOf } from './connections.js';

/** A loaded machine (two cores, other work beside) starts a service in seconds, not the usual one. */
const HEALTH_TIMEOUT_MS = 45_000;

export interface OwnedClusterOptions {
  /** holds the redis-server's data (its append-only file) and the services' logs */
  dir: string;
  prefix: string;
  /** the services' environment (the short job lock the nemesis's pauses are measured against) */
  env: NodeJS.ProcessEnv;
  /** keep `dir` after close */
  keep?: boolean;
}

/**
 * Everything the chaos nemesis may act on, and nothing else: a redis-server and five services this
 * process started (issue 11, point 5). It signals only the pids it holds, resumes what it stopped
 * before anything else happens to it, and stops it all on close, or on Ctrl-C/SIGTERM (onCleanup).
 */
export class OwnedCluster {
  readonly cfg: ClusterConfig;
  /** the service of each component at the moment (a restart replaces it) */
  readonly services = new Map<Component, StartedService>();
  /** every startCluster of this cluster: the five, then each restart */
  private readonly started: RunningCluster[] = [];
  private readonly stopped = new Set<number>();
  /** every redis-server this cluster started (a restart is a new one) */
  private readonly redisPids: number[] = [];
  /** a connection of the nemesis's own to the cluster's Redis (CLIENT KILL, markers) */
  readonly admin: Redis;
  private closing?: Promise<void>;
  private unregister = () => {};

  private constructor(private redis: PrivateRedis, private readonly o: OwnedClusterOptions) {
    this.cfg = { redisUrl: redis.url, prefix: o.prefix };
    this.admin = boundedRedis(redis.url, { maxRetriesPerRequest: 0 });
    this.redisPids.push(redis.pid);
  }

  /** A private redis-server (append-only, fsync always) in `dir`, and the five services on it. */
  static async start(o: OwnedClusterOptions): Promise<OwnedCluster> {
    const redis = await startPrivateRedis({ dir: join(o.dir, 'redis'), ...productRedis() }).catch((e: Error) => {
      if (!o.keep) rmSync(o.dir, { recursive: true, force: true });
      throw infra(`the chaos cluster needs a redis-server of its own (a Redis fault must never hit REDIS_URL's server): ${e.message}. Put redis-server on PATH.`);
    });
    const c = new OwnedCluster(redis, o);
    c.unregister = onCleanup(`the chaos cluster (redis-server ${redis.pid} and its services)`, () => c.close());
    try {
      await c.startServices(COMPONENTS);
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  get redisPid(): number {
    return this.redis.pid;
  }

  get redisPort(): number {
    return this.redis.port;
  }

  /** Every pid this cluster started, alive or not: its redis-servers and services. */
  pids(): number[] {
    return [...this.redisPids, ...this.started.flatMap((c) => c.services.map((s) => s.pid))];
  }

  service(c: Component): StartedService {
    const s = this.services.get(c);
    if (!s) throw new Error(`no ${c} in the chaos cluster`);
    return s;
  }

  /** Starts services and waits for their leases; each startCluster's stop resumes a stopped process first. */
  private async startServices(components: readonly Component[]): Promise<void> {
    const hook: SignalHook = (what, stop) => onCleanup(what, async () => {
      this.resumeAll();
      await stop();
    });
    const cluster = await startCluster({ cfg: this.cfg, components, logDir: join(this.o.dir, 'logs'), env: this.o.env, healthTimeoutMs: HEALTH_TIMEOUT_MS, stopOnSignals: hook }).catch((e: Error) => {
      throw infra(`the chaos cluster's ${components.join(', ')} did not come up: ${e.message}`);
    });
    this.started.push(cluster);
    for (const s of cluster.services) this.services.set(s.component, s);
  }

  /** SIGKILL, and wait for the exit (no shutdown hooks: jobs are left mid-flight). */
  async kill(c: Component): Promise<number> {
    const s = this.service(c);
    if (s.child.exitCode === null && s.child.signalCode === null) {
      const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
      this.stopped.delete(s.pid);
      s.child.kill('SIGKILL');
      await exited;
    }
    return s.pid;
  }

  /** A new process for `c`, on the same Redis, prefix and environment; waits for its lease. */
  async restart(c: Component): Promise<number> {
    await this.startServices([c]);
    return this.service(c).pid;
  }

  /** SIGSTOP: the process keeps its sockets and its jobs, and does nothing. */
  pause(c: Component): number {
    const s = this.service(c);
    this.stopped.add(s.pid);
    s.child.kill('SIGSTOP');
    return s.pid;
  }

  resume(c: Component): void {
    const s = this.service(c);
    s.child.kill('SIGCONT');
    this.stopped.delete(s.pid);
  }

  /** SIGCONT to every process this cluster stopped. */
  resumeAll(): void {
    for (const s of this.started.flatMap((c) => c.services)) {
      if (this.stopped.delete(s.pid) && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGCONT');
    }
  }

  /** The processes stopped and not resumed yet. */
  get paused(): number[] {
    return [...this.stopped];
  }

  async dropConnections(c: Component): Promise<number> {
    return dropConnectionsOf(this.admin, this.service(c).pid);
  }

  /** SIGKILL the redis-server: no shutdown, no final rewrite; what was fsynced stays. */
  async killRedis(): Promise<number> {
    const pid = this.redis.pid;
    process.kill(pid, 'SIGKILL');
    if ((await untilGone([pid], 5000)).length) throw infra(`redis-server ${pid} still alive 5 s after SIGKILL`);
    return pid;
  }

  /** A new redis-server on the same port and folder, loading the append-only file. */
  async restartRedis(): Promise<number> {
    const { port } = this.redis;
    const dir = join(this.o.dir, 'redis');
    let last: unknown;
    // the port may stay taken for a moment after the kill
    for (let i = 0; i < 5; i++) {
      try {
        this.redis = await startPrivateRedis({ dir, port, ...productRedis() });
        this.redisPids.push(this.redis.pid);
        return this.redis.pid;
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw infra(`the chaos cluster's redis-server did not come back on port ${port} from ${dir}: ${(last as Error).message}`);
  }

  /** what redis-check-aof cut from the append-only file before the last start, if the kill tore it */
  get redisRepaired(): string | undefined {
    return this.redis.repaired;
  }

  async redisUp(): Promise<boolean> {
    return waitForRedis(this.redis.url, 500).then(() => true, () => false);
  }

  /**
   * Everything back: stopped processes resumed, Redis up, a service that is gone (killed, or exited
   * on its own) started again, and every lease held. Returns the services it had to start. A part
   * that does not come back is an infrastructure failure (exit 3).
   */
  async heal(): Promise<Component[]> {
    this.resumeAll();
    if (!(await this.redisUp())) {
      if ((await untilGone([this.redis.pid], 0)).length === 0) await this.restartRedis();
      else await waitForRedis(this.redis.url, 10_000).catch((e: Error) => {
        throw infra(`the chaos cluster's redis-server (pid ${this.redis.pid}) does not answer: ${e.message}`);
      });
    }
    const gone = COMPONENTS.filter((c) => {
      const s = this.services.get(c);
      return !s || s.child.exitCode !== null || s.child.signalCode !== null;
    });
    if (gone.length) await this.startServices(gone);
    await waitHealthy(this.cfg, COMPONENTS, HEALTH_TIMEOUT_MS).catch((e: Error) => {
      throw infra(`the chaos cluster did not heal: ${e.message}`);
    });
    return gone;
  }

  /** Resumes, stops every service and the redis-server, removes the folder (unless kept). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unregister();
      this.resumeAll();
      await Promise.all(this.started.map((c) => c.stop()));
      this.admin.disconnect();
      await this.redis.stop();
      if (!this.o.keep) rmSync(this.o.dir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}
