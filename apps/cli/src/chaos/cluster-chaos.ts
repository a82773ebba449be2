import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Component, LogEntry } from '../../../../libs/contracts/src/index.js';
import type { ClusterConfig, RunRequest } from '../../../../libs/cluster/src/index.js';
import { buildReport, type RunReport } from '../../../../libs/runtime/src/index.js';
import { NEMESIS_TIMING, ScheduleError, scheduleOf, type InjectedFault, type NemesisAction, type NemesisSchedule } from '../../../../libs/chaos/src/index.js';
import { InfraVerdict, openClusterRunner, type ClusterRunReport } from '../cluster-run.js';
import { stateDir } from '../cluster-state.js';
import { usage } from '../errors.js';
import { canFindConnections } from './connections.js';
import { LogFollower } from './log-follower.js';
import { Nemesis } from './nemesis.js';
import { OwnedCluster } from './owned-cluster.js';

export type { InjectedFault } from '../../../../libs/chaos/src/index.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

export interface ChaosClusterOptions {
  /** bound on one run, faults and healing included */
  timeoutMs: number;
  /** once healed, an outage longer than this ends a run as infrastructure */
  stepTimeoutMs: number;
  /** keep the cluster's folder (the redis-server's append-only file, the services' logs) */
  keep?: boolean;
}

export interface ChaosClusterRun {
  /** the orchestrator's report; when the run did not complete, one built from the log as it stands */
  report: ClusterRunReport;
  /** the run's whole log, read back from Redis after the run */
  entries: LogEntry[];
  injected: InjectedFault[];
  /** actions whose log position the run never reached (it ended first) */
  missed: NemesisAction[];
  /** when everything was back up; `revived`: services found gone that the nemesis had not left so (they died on their own) */
  healed: { atSeq: number; atMs: number; revived: Component[] };
  /** liveness: the run finished, healed, within the timeout */
  completed: boolean;
}

export interface ChaosCluster {
  cfg: ClusterConfig;
  /** time the redis-server and the five services took to come up */
  startMs: number;
  /** every pid it started (redis-servers and services, the restarted ones too) */
  pids(): number[];
  /** one run at a time: the nemesis acts on the whole cluster */
  run(req: RunRequest, schedule: NemesisSchedule, onFault?: (f: InjectedFault) => void): Promise<ChaosClusterRun>;
  close(): Promise<void>;
}

/**
 * A cluster for the nemesis (issue 11), never an existing one: a private redis-server with its
 * append-only file and five services under a fresh prefix, with the short job lock NEMESIS_TIMING
 * measures pauses against. A run has two phases: safety (the schedule's faults while the run goes on),
 * then liveness (everything healed, and the run must complete). Outages the nemesis causes are
 * excused until it has healed them; a part that will not come back is an infrastructure error (exit 3).
 */
export async function openChaosCluster(o: ChaosClusterOptions): Promise<ChaosCluster> {
  const t0 = Date.now();
  const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const dir = join(stateDir(), `chaos-${id}`);
  const env = {
    VSVA_LOCK_MS: String(NEMESIS_TIMING.lockMs),
    VSVA_STALLED_MS: String(NEMESIS_TIMING.stalledMs),
    // a crash's rebuild starts from a recent snapshot
    VSVA_SNAPSHOT_EVERY: '200',
  };
  const cluster = await OwnedCluster.start({ dir, prefix: `vsvachaos-${id}`, env, keep: o.keep });
  const runner = await openClusterRunner(cluster.cfg, o).catch(async (e: Error) => {
    await cluster.close();
    throw e;
  });
  const startMs = Date.now() - t0;
  const pids = [...cluster.services.values()].map((s) => `${s.component}:${s.pid}`).join(' ');
  say(`chaos: a cluster of its own: redis-server ${cluster.redisPid} on port ${cluster.redisPort} (append-only), services ${pids}, prefix ${cluster.cfg.prefix}, job lock ${NEMESIS_TIMING.lockMs} ms; in ${dir}${o.keep ? ' (kept)' : ''}; up in ${startMs} ms`);
  let busy = false;

  return {
    cfg: cluster.cfg,
    startMs,
    pids: () => cluster.pids(),
    async run(req, given, onFault) {
      let schedule: NemesisSchedule;
      try {
        schedule = scheduleOf(given, 'the nemesis schedule');
      } catch (e) {
        throw e instanceof ScheduleError ? usage(e.message) : e;
      }
      if (schedule.actions.some((a) => a.kind === 'disconnect') && !canFindConnections()) {
        throw usage("the 'disconnect' fault finds a service's connections through Linux's /proc, which this system does not have; leave it out");
      }
      if (busy) throw new Error('a chaos cluster runs one run at a time');
      busy = true;
      const started = Date.now();
      let ended = false;
      let healedAt: number | undefined;
      const follower = new LogFollower(cluster.cfg, req.runId, () => ended);
      const nemesis = new Nemesis(cluster, follower, req.runId, started, onFault);
      try {
        const running = runner.run(req, { excusedUntil: () => healedAt ?? Date.now() });
        running.then(() => (ended = true), () => (ended = true));
        let revived: Component[];
        try {
          await nemesis.act(schedule);
        } finally {
          revived = await cluster.heal();
          healedAt = Date.now();
          await follower.poll(1);
        }
        const healed = { atSeq: follower.last, atMs: healedAt - started, revived };
        let report: ClusterRunReport | undefined;
        try {
          report = await running;
        } catch (e) {
          // no report while everything is up: a liveness failure of the run, not of the infrastructure
          if (!(e instanceof InfraVerdict && e.why === 'unanswered')) throw e;
          await cluster.heal();
        }
        const entries = await runner.log.read(req.runId);
        const completed = report !== undefined;
        report ??= builtReport(req, entries, Date.now() - started);
        return { report, entries, injected: nemesis.injected, missed: nemesis.missed, healed, completed };
      } finally {
        ended = true;
        await follower.close();
        busy = false;
      }
    },
    async close() {
      await runner.close();
      await cluster.close();
    },
  };
}

/** The report of a run that never answered: the log as it stands, checked as any history is. */
function builtReport(req: RunRequest, entries: LogEntry[], wallMs: number): RunReport {
  return buildReport({ runId: req.runId, entries, scenario: { name: req.scenario.name, file: req.file }, policy: req.policy, engine: 'cluster', seed: req.seed, wallMs, reproduce: req.reproduce });
}
