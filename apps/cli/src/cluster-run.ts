import { firstValueFrom } from 'rxjs';
import type { LogEntry } from '../../../libs/contracts/src/index.js';
import type { ClusterConfig, RunRequest } from '../../../libs/cluster/src/index.js';
import type { RunReport } from '../../../libs/runtime/src/index.js';
import type { RedisRunLog } from '../../../libs/event-log/src/index.js';
import { CliError, infra } from './errors.js';
import { describeOutage, InfraWatch, type Outage } from './infra-watch.js';

/** A cluster run's report, with the outages it survived. */
export type ClusterRunReport = RunReport & { infrastructure?: { outages: string[] } };

export interface ClusterRunOptions {
  /** sees the log as it grows (the timeline) */
  onEntries?: (es: LogEntry[]) => void;
  /** up to when outages are the caller's doing (InfraWatch): the chaos nemesis's faults */
  excusedUntil?: () => number;
}

/** How a command runs scenarios on a cluster it found or started: the run log and the orchestrator's control queue. */
export interface ClusterRunner {
  log: RedisRunLog;
  run(req: RunRequest, o?: ClusterRunOptions): Promise<ClusterRunReport>;
  close(): Promise<void>;
}

/**
 * The one run path (`run`, `corpus`, `chaos`): a RunRequest to the orchestrator over BullMQ, bounded
 * by `timeoutMs`, while an InfraWatch ends the wait as infrastructure (exit 3) when Redis or a
 * service is gone longer than the step timeout.
 */
export async function openClusterRunner(cfg: ClusterConfig, o: { timeoutMs: number; stepTimeoutMs: number }): Promise<ClusterRunner> {
  const { RedisRunLog } = await import('../../../libs/event-log/src/index.js');
  const { BullMqClient, queueName } = await import('../../../libs/transport/src/index.js');
  const log = RedisRunLog.fromUrl(cfg.redisUrl, { prefix: cfg.prefix, redis: { commandTimeout: 10_000, connectTimeout: 3000 } });
  // a Redis that goes away is InfraWatch's to report (an outage, with its cause): not an ioredis stack on stderr
  log.redis.on('error', () => {});
  const client = new BullMqClient({ url: cfg.redisUrl, prefix: cfg.prefix, queue: queueName('orchestrator', 'ctl'), service: 'orchestrator', timeoutMs: o.timeoutMs });
  return {
    log,
    async run(req, { onEntries, excusedUntil } = {}) {
      let last = 0;
      let tailing = !!onEntries;
      const tail = (async () => {
        while (tailing) {
          const es = await log.read(req.runId, last + 1).catch(() => []);
          if (es.length) {
            onEntries!(es);
            last = es[es.length - 1]!.seq;
          } else await new Promise((r) => setTimeout(r, 25));
        }
      })();
      const watch = new InfraWatch(cfg, req.stepTimeoutMs ?? o.stepTimeoutMs, undefined, undefined, excusedUntil).start();
      let unanswered = false;
      try {
        const report = await Promise.race([
          firstValueFrom(client.send<RunReport>('run.start', req)).catch((e: Error) => {
            unanswered = true;
            throw infra(`run ${req.runId} did not complete: ${e.message}`);
          }),
          watch.failed,
        ]);
        const survived = watch.outages.filter((x) => x.to);
        return survived.length ? { ...report, infrastructure: { outages: survived.map(describeOutage) } } : report;
      } catch (e) {
        if (e instanceof CliError && e.exitCode === 3) throw new InfraVerdict(req.runId, e.message, watch.outages, unanswered ? 'unanswered' : 'outage');
        throw e;
      } finally {
        watch.stop();
        tailing = false;
        // the timeline's last lines, but never held up by a Redis that is gone
        if (await bounded(tail, 1000) && onEntries && watch.outages.every((x) => x.to)) {
          const rest = await log.read(req.runId, last + 1).catch(() => []);
          if (rest.length) onEntries(rest);
        }
      }
    },
    async close() {
      await bounded(client.close(), 3000);
      await bounded(log.close(), 3000).then((done) => done || log.redis.disconnect());
    },
  };
}

/** A run that ended because the infrastructure failed: verdict `infrastructure`, exit 3. */
export class InfraVerdict extends CliError {
  readonly verdict = 'infrastructure';
  /**
   * why: `outage`, Redis or a service was gone longer than the step timeout; `unanswered`, the orchestrator
   * gave no report within the run's timeout (or the request could not be sent) while nothing was seen
   * gone that long.
   */
  constructor(readonly runId: string, message: string, readonly outages: Outage[], readonly why: 'outage' | 'unanswered' = 'outage') {
    super(`${message} (run ${runId}; verdict: infrastructure, not a finding about the model)`, 3, { runId, verdict: 'infrastructure', outages: outages.map(describeOutage) });
  }
}

/** Whether `p` settled within `ms` (it is not cancelled either way). */
export async function bounded(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => true, () => true), new Promise<false>((res) => (timer = setTimeout(() => res(false), ms)))]);
  clearTimeout(timer);
  return r;
}
